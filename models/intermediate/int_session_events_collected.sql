{#- The rows of int_event_identifiers (event, identifier) whose identifier is or once was shared (has a
    row in int_identifiers_shared), each with its time and, for an identify, its messageId: the events
    whose sessions decide the events that carry only shared identifiers (int_events_assigned), kept
    apart so that a night reads them without scanning every event's identifiers and type.
    Incremental: a run adds its new events' rows on such identifiers, and every row of an identifier
    that entered int_identifiers_shared; a row already here is never added again. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='append') }}

with event_identifiers as {{ idr_not_materialized() }} (
    select * from {{ ref('int_event_identifiers') }}
),

identifiers_shared as (
    select * from {{ ref('int_identifiers_shared') }}
),

events_validated as (
    select * from {{ ref('int_events_validated') }}
),

{%- if is_incremental() %}

entered_identifiers as (
    -- the identifiers whose sharedness was decided since this model last ran and that have no rows here
    -- yet (one that has rows here has all of them: its new rows were added night by night)
    select identifier_key from identifiers_shared
    where
        {{ idr_unprocessed('identifiers_shared') }}
        and identifier_key not in (select collected.identifier_key from {{ this }} as collected)
),

new_rows as (
    -- the rows of events new since this model last ran on such identifiers, and every row of the
    -- identifiers that entered
    select
        event_key,
        identifier_key,
        occurred_at
    from event_identifiers
    where
        {{ idr_unprocessed() }}
        and identifier_key in (select identifiers_shared.identifier_key from identifiers_shared)
    union
    select
        event_key,
        identifier_key,
        occurred_at
    from event_identifiers
    where identifier_key in (select entered_identifiers.identifier_key from entered_identifiers)
),

collected_rows as {{ idr_materialized() }} (
    -- (the watermark is this model's newest row, older than its last run when that run added none:
    -- rows read again are not added twice)
    select new_rows.*
    from new_rows
    left join {{ this }} as collected
        on
            new_rows.event_key = collected.event_key
            and new_rows.identifier_key = collected.identifier_key
    where collected.event_key is null
),

{%- else %}

collected_rows as {{ idr_materialized() }} (
    select
        event_key,
        identifier_key,
        occurred_at
    from event_identifiers
    where identifier_key in (select identifiers_shared.identifier_key from identifiers_shared)
),

{%- endif %}

collected_events as (
    select distinct event_key from collected_rows
),

identifies as (
    -- the identifies among those events (DuckDB reads only the range of event keys they span: on a
    -- night, mostly its own events)
    select
        events_validated.event_key,
        events_validated.message_id
    from events_validated
    inner join collected_events
        on events_validated.event_key = collected_events.event_key
    where events_validated.event_type = 'identify'
),

final as (
    select
        collected_rows.event_key,
        collected_rows.identifier_key,
        collected_rows.occurred_at,
        identifies.message_id as identify_message_id,
        {{ idr_batch_marker() }} as batch_started_at
    from collected_rows
    left join identifies
        on collected_rows.event_key = identifies.event_key
)

select * from final
