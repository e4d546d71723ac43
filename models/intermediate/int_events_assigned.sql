{#- The profile of every accepted event that has a usable identifier: the profile of its most trusted
    identifier (lowest priority number, then type and value), the event's deciding identifier.
    Incremental: which identifier decides an event never changes (it depends on the event's own
    identifiers only), so a run assigns its new events and re-assigns the events whose deciding
    identifier moved to another profile since this model last ran; it writes only the assignments
    that changed, so downstream models see exactly the events whose profile changed. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='delete+insert', unique_key='event_key') }}

{#- identifier priorities are below 2**22 and identifier keys below 2**40 (a trillion identifiers), so
    that priority * key_span + key fits a bigint -#}
{%- set key_span = 1099511627776 %}
{%- set trust_order = [
    ('identifier_priority', 'identifiers_keyed.identifier_priority'),
    ('identifier_type', 'identifiers_keyed.identifier_type'),
    ('identifier_value', 'identifiers_keyed.identifier_value'),
    ('identifier_key', 'identifiers_keyed.identifier_key'),
] %}

with event_identifiers as {{ idr_not_materialized() }} (
    select * from {{ ref('int_event_identifiers') }}
    where {{ idr_unprocessed() }}
),

identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

trust_bounds as (
    -- per new event, in integers only: the smallest and the largest identifier_key among its
    -- identifiers of the best (lowest) priority, each packed with the priority so that one min finds it
    select
        event_key,
        min(identifier_priority * {{ key_span }} + identifier_key) % {{ key_span }} as lowest_key,
        {{ key_span - 1 }} - min(
            identifier_priority * {{ key_span }} + {{ key_span - 1 }} - identifier_key
        ) % {{ key_span }} as highest_key
    from event_identifiers
    group by event_key
),

tie_breaks as (
    -- the events with several identifiers of the best priority: the smallest (type, value) among them
    select
        event_identifiers.event_key,
        {{ idr_min_struct(trust_order) }} as smallest_identifier
    from event_identifiers
    inner join identifiers_keyed
        on event_identifiers.identifier_key = identifiers_keyed.identifier_key
    where
        event_identifiers.event_key in (
            select trust_bounds.event_key
            from trust_bounds
            where trust_bounds.lowest_key <> trust_bounds.highest_key
        )
    group by event_identifiers.event_key
),

deciding_keys as (
    -- each new event's most trusted identifier: lowest priority, then type, then value
    select
        trust_bounds.event_key,
        -- (a struct's field, which the linter takes for a table's column)
        coalesce(
            tie_breaks.smallest_identifier.identifier_key,  -- noqa: RF01
            trust_bounds.lowest_key
        ) as assigned_by_identifier_key
    from trust_bounds
    left join tie_breaks
        on trust_bounds.event_key = tie_breaks.event_key
),

deciding_identifiers as (
    select
        event_key,
        assigned_by_identifier_key
    from deciding_keys
    {%- if is_incremental() %}
    union all
    select
        previous.event_key,
        previous.assigned_by_identifier_key
    from {{ this }} as previous
    where
        previous.assigned_by_identifier_key in (
            select identifiers_stitched.identifier_key
            from identifiers_stitched
            where {{ idr_unprocessed('identifiers_stitched', column='profile_changed_at') }}
        )
        and previous.event_key not in (select deciding_keys.event_key from deciding_keys)
    {%- endif %}
),

final as (
    select
        deciding_identifiers.event_key,
        identifiers_stitched.profile_id,
        deciding_identifiers.assigned_by_identifier_key,
        {{ idr_batch_marker() }} as batch_started_at
    from deciding_identifiers
    inner join identifiers_stitched
        on deciding_identifiers.assigned_by_identifier_key = identifiers_stitched.identifier_key
    {%- if is_incremental() %}
    left join {{ this }} as previous
        on deciding_identifiers.event_key = previous.event_key
    where previous.event_key is null or previous.profile_id <> identifiers_stitched.profile_id
    {%- endif %}
)

select * from final
