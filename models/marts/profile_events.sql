{#- Incremental: a run rewrites the events it re-assigned. Every event of a profile it touched is
    among them (a profile's events all carry identifiers of its connected component), so the timeline
    positions are recomputed over whole profiles. -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='message_id') }}

with events as (
    select * from {{ ref('int_events_validated') }}
    where rejection_reason is null
),

events_assigned as (
    select * from {{ ref('int_events_assigned') }}
    {%- if is_incremental() %}
    where {{ idr_unprocessed() }}
    {%- endif %}
),

joined as (
    select
        events_assigned.profile_id,
        events.message_id,
        events.event_type,
        events.event_name,
        events.occurred_at,
        events.received_at,
        events.user_id,
        events.anonymous_id,
        events.context_app_name as app_name,
        events.context_device_id as device_id,
        events.context_device_type as device_type,
        events.properties,
        events_assigned.assigned_by_identifier_type,
        events_assigned.assigned_by_identifier_value,
        events_assigned.batch_started_at,
        events.event_source,
        events.source_name
    from events
    inner join events_assigned
        on events.message_id = events_assigned.message_id
),

final as (
    select
        *,
        row_number() over (
            partition by profile_id
            order by occurred_at, received_at, message_id
        ) as timeline_position
    from joined
)

select * from final
