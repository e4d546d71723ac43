{#- Every staged row from every input, with the reason it cannot be used (null for usable events).
    Usable events that repeat an earlier messageId are marked as duplicates: a copy accepted by an
    earlier run stays; within one run the first copy received (then loaded) is kept.
    Every row gets an integer event_key, unique in the table, that the later models join on.
    Incremental: a run adds the landing rows of loads it has not seen and the warehouse-table rows it
    has not seen, tagged with the run's batch_started_at, their event_keys after the largest one.
    After the insert, the rows that carry an identifier of a forgotten person become `suppressed`
    (macros/suppression.sql, idr_mark_suppressed_rows). -#}
{{ config(
    materialized=idr_incremental(),
    incremental_strategy='append',
    post_hook=[
        after_commit("{{ idr_mark_message_copies(this, source('landing', 'raw_events')) }}"),
        after_commit("{{ idr_mark_suppressed_rows(this) }}"),
        after_commit("{{ idr_scrub_suppressed_landing_rows(this, source('landing', 'raw_events')) }}"),
    ],
) }}


{%- set staging_models = ['stg_landing__raw_events'] -%}
{%- if var('idr_segment_tables') != 'none' -%}
    {%- set staging_models = staging_models + [
        'stg_segment__identifies', 'stg_segment__tracks', 'stg_segment__pages',
        'stg_segment__screens', 'stg_segment__aliases', 'stg_segment__groups',
    ] -%}
{%- endif -%}
{%- set columns = idr_staged_event_columns() -%}
{%- set event_types = ['identify', 'track', 'page', 'screen', 'alias', 'group'] -%}

with
{% for model_name in staging_models %}
{{ model_name }} as (
    select * from {{ ref(model_name) }}
),
{% endfor %}

unioned as (
    -- each row with a number unique in this union: landing rows by their place in the landing table,
    -- warehouse-table rows numbered after the largest of those
    select
        {{ columns | join(', ') }},
        landing_row_number as arrival_number
    from stg_landing__raw_events
    {%- if staging_models | length > 1 %}
    union all
    select
        *,
        {{ idr_largest_value(ref('stg_landing__raw_events'), 'landing_row_number') }}
        + row_number() over (
            order by event_source, source_name, message_id, received_at_raw, timestamp_raw
        ) as arrival_number
    from (
        {%- for model_name in staging_models[1:] %}
        select {{ columns | join(', ') }} from {{ model_name }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as warehouse_rows
    {%- endif %}
),

new_rows as (
    select * from unioned
    {%- if is_incremental() and staging_models | length == 1 %}
    where load_id in ({{ idr_unprocessed_load_ids() }})
    {%- elif is_incremental() %}
    where
        (event_source = 'landing' and load_id in ({{ idr_unprocessed_load_ids() }}))
        or (event_source <> 'landing' and not exists (
            select 1
            from {{ this }} as previous
            where
                previous.event_source = unioned.event_source
                and previous.source_name = unioned.source_name
                and previous.message_id is not distinct from unioned.message_id
                and previous.received_at_raw is not distinct from unioned.received_at_raw
                and previous.timestamp_raw is not distinct from unioned.timestamp_raw
        ))
    {%- endif %}
),

stamped as (
    -- a loaded event without any time field is stamped with the time it was loaded, as Segment stamps
    -- receivedAt on arrival (var idr_events_without_time)
    select
        *,
        coalesce(
            {{ 'true' if var('idr_events_without_time') == 'arrival' else 'false' }}
            and timestamp_raw is null
            and original_timestamp_raw is null
            and sent_at_raw is null
            and received_at_raw is null
            and loaded_at is not null,
            false
        ) as is_received_at_stamped
    from new_rows
),

timed as (
    -- when it happened: its timestamp, else the client's clock corrected by the time the message took
    -- to arrive, else its originalTimestamp, else its receivedAt (docs/inputs.md, "Event times")
    select
        *,
        coalesce(
            timestamp_at,
            case
                when original_timestamp_at is not null and sent_at is not null and received_at is not null
                    then {{ idr_clock_corrected_time('received_at', 'sent_at', 'original_timestamp_at') }}
            end,
            original_timestamp_at,
            received_at,
            case when is_received_at_stamped then loaded_at end
        ) as occurred_at
    from stamped
),

checked as (
    select
        *,
        case
            when source_rejection_reason is not null then source_rejection_reason
            when coalesce(trim(message_id), '') = '' then 'missing_message_id'
            when coalesce(event_type, '') = '' then 'missing_type'
            when not {{ idr_is_one_of('event_type', event_types) }} then 'unknown_type'
            when
                coalesce(trim(user_id), '') = '' and coalesce(trim(anonymous_id), '') = ''
                then 'missing_identity'
            when
                event_type = 'alias' and (coalesce(trim(previous_id), '') = '' or coalesce(trim(user_id), '') = '')
                then 'invalid_alias'
            when event_type = 'track' and coalesce(trim(event_name), '') = '' then 'missing_event_name'
            when event_type = 'group' and coalesce(trim(group_id), '') = '' then 'missing_group_id'
            when timestamp_raw is not null and timestamp_at is null then 'invalid_timestamp'
            when original_timestamp_raw is not null and original_timestamp_at is null then 'invalid_timestamp'
            when sent_at_raw is not null and sent_at is null then 'invalid_timestamp'
            when received_at_raw is not null and received_at is null then 'invalid_timestamp'
            when occurred_at is null then 'missing_timestamp'
        end as validation_reason
    from timed
),

explained as (
    select
        *,
        case validation_reason
            when 'missing_message_id' then 'messageId is missing or empty'
            when 'missing_type' then 'type is missing or empty'
            when 'unknown_type' then 'unknown type: ' || event_type
            when 'missing_identity' then 'neither userId nor anonymousId is set'
            when 'invalid_alias' then 'an alias call needs both previousId and userId'
            when 'missing_event_name' then 'a track call needs an event name'
            when 'missing_group_id' then 'a group call needs a groupId'
            when 'invalid_timestamp'
                then {{ idr_sql_string(
                    'not an ISO-8601 time with an offset within 18 hours, from ' ~ var('idr_earliest_event_time')
                    ~ ' until before ' ~ var('idr_latest_event_time') ~ ': '
                ) }} || coalesce(
                    case when timestamp_at is null then 'timestamp=' || timestamp_raw end,
                    case when original_timestamp_at is null then 'originalTimestamp=' || original_timestamp_raw end,
                    case when sent_at is null then 'sentAt=' || sent_at_raw end,
                    'receivedAt=' || received_at_raw
                )
            when 'missing_timestamp' then 'none of timestamp, originalTimestamp, sentAt and receivedAt is set'
            else source_rejection_detail
        end as validation_detail
    from checked
),

ranked as (
    select
        *,
        {%- if idr_marks_message_copies_after_insert() %}
        -- the copies of a messageId within this run are marked after the insert (idr_mark_message_copies)
        1 as message_copy_number
        {%- else %}
        row_number() over (
            partition by validation_reason is null, message_id
            order by {{ idr_message_copy_order() | join(', ') }}
        ) as message_copy_number
        {%- endif %}
    from explained
),

{%- if is_incremental() %}

accepted_before as (
    -- the new rows' messageIds that an earlier run accepted
    select previous.message_id
    from {{ this }} as previous
    where
        previous.rejection_reason is null
        and previous.message_id in (select ranked.message_id from ranked)
),
{%- endif %}

deduplicated as (
    select
        *,
        validation_reason is null and (
            message_copy_number > 1
            {%- if is_incremental() %}
            or message_id in (select accepted_before.message_id from accepted_before)
            {%- endif %}
        ) as is_duplicate
    from ranked
),

final as (
    select
        {%- for column in columns %}
        {%- if column == 'raw_text' %}
        -- the landing table keeps the text of every line; here only rejected rows keep it, and those
        -- that may turn out to have no usable identifier (rejected_events shows their text)
        -- (the certain-identifier test as a condition of its own: DuckDB stops at the first true
        -- alternative of a case condition, but evaluates every one under a `not`)
        case
            when validation_reason is not null or is_duplicate then raw_text
            when {{ idr_has_certain_identifier() }} then null
            else raw_text
        end as raw_text,
        {%- elif column == 'received_at' %}
        case when is_received_at_stamped then loaded_at else received_at end as received_at,
        {%- elif column.endswith('_raw') %}
        -- the time fields as sent: kept where they may still be needed (rejected rows, and the rows of
        -- warehouse tables, whose later runs compare them); the landing table keeps every line's text
        case when validation_reason is not null or event_source <> 'landing' then {{ column }} end as {{ column }},
        {%- else %}
        {{ column }},
        {%- endif %}
        {%- endfor %}
        occurred_at,
        is_received_at_stamped,
        case when is_duplicate then 'duplicate_message_id' else validation_reason end as rejection_reason,
        case
            when is_duplicate then {{ idr_duplicate_detail('message_id') }}
            else validation_detail
        end as rejection_detail,
        -- the key the models after this one join events on (smaller than a messageId, and unique
        -- where messageIds repeat): this run's rows numbered after the largest key written before
        {{ idr_largest_value(this, 'event_key') if is_incremental() else 0 }} + arrival_number as event_key,
        {{ idr_batch_marker() }} as batch_started_at
    from deduplicated
)

select * from final
