{#- The identify events among every staged row, by event_key, with their messageId and time: what the
    sessions on shared identifiers look up (int_session_events_collected), without reading every event's
    type. A row's acceptance is not checked here: the events it is joined to are accepted ones.
    Incremental: a run adds the identifies among its new rows. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='append') }}

with events_validated as (
    select * from {{ ref('int_events_validated') }}
    where {{ idr_unprocessed() }}
),

final as (
    select
        event_key,
        message_id,
        {{ idr_batch_marker() }} as batch_started_at
    from events_validated
    where event_type = 'identify'
)

select * from final
