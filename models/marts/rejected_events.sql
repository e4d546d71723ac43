with events as (
    select * from {{ ref('int_events_validated') }}
),

events_assigned as (
    select * from {{ ref('int_events_assigned') }}
),

rejected as (
    select
        event_source,
        source_name,
        source_row,
        load_id,
        loaded_at,
        message_id,
        event_type,
        rejection_reason,
        rejection_detail,
        raw_text
    from events
    where rejection_reason is not null
),

unidentified as (
    select
        events.event_source,
        events.source_name,
        events.source_row,
        events.load_id,
        events.loaded_at,
        events.message_id,
        events.event_type,
        'no_usable_identifier' as rejection_reason,
        'every identifier of the event is empty or a blocked placeholder value' as rejection_detail,
        events.raw_text
    from events
    left join events_assigned
        on events.message_id = events_assigned.message_id
    where events.rejection_reason is null and events_assigned.message_id is null
),

final as (
    select * from rejected
    union all
    select * from unidentified
)

select * from final
