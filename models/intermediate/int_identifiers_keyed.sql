{#- One row per usable identifier with an integer identifier_key, its first and last sighting and
    event count, its type's limit and the calendar window the limit counts it in.
    Incremental: a run recomputes the identifiers its new events carry (merging the counts with the
    earlier row, which keeps its key; new identifiers get keys after the largest) and tags them with
    the run's batch_started_at. -#}
{{ config(
    materialized=idr_incremental(),
    incremental_strategy='delete+insert',
    unique_key=['identifier_type', 'identifier_value'],
) }}

with identifiers as (
    select * from {{ ref('int_identifiers_extracted') }}
    where not is_blocked and {{ idr_unprocessed() }}
),

batch_counts as (
    select
        identifier_type,
        identifier_value,
        min(identifier_priority) as identifier_priority,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as event_count
    from identifiers
    group by identifier_type, identifier_value
),

combined as (
    {%- if is_incremental() %}
    select
        batch_counts.identifier_type,
        batch_counts.identifier_value,
        batch_counts.identifier_priority,
        previous.identifier_key as previous_key,
        {{ idr_merged_sightings('batch_counts', 'previous') }}
    from batch_counts
    left join {{ this }} as previous
        on
            batch_counts.identifier_type = previous.identifier_type
            and batch_counts.identifier_value = previous.identifier_value
    {%- else %}
    select
        identifier_type,
        identifier_value,
        identifier_priority,
        cast(null as bigint) as previous_key,
        first_seen_at,
        last_seen_at,
        event_count
    from batch_counts
    {%- endif %}
),

largest_key as (
    {%- if is_incremental() %}
    select coalesce(max(identifier_key), 0) as identifier_key from {{ this }}
    {%- else %}
    select cast(0 as bigint) as identifier_key
    {%- endif %}
),

final as (
    select
        combined.identifier_type,
        combined.identifier_value,
        combined.identifier_priority,
        combined.first_seen_at,
        combined.last_seen_at,
        combined.event_count,
        {{ idr_identifier_setting('combined.identifier_type', 'limit') }} as identifier_limit,
        {{ idr_limit_window_start('combined.identifier_type', 'combined.first_seen_at') }} as limit_window_start_at,
        coalesce(
            combined.previous_key,
            largest_key.identifier_key + row_number() over (
                order by
                    combined.first_seen_at,
                    combined.identifier_priority,
                    combined.identifier_type,
                    combined.identifier_value
            )
        ) as identifier_key,
        {{ idr_batch_marker() }} as batch_started_at
    from combined
    cross join largest_key
)

select * from final
