{#- Incremental: a run appends the rejected rows of the events it added (what is rejected, and why,
    never changes afterwards: an event's identifiers are fixed). -#}
{{ config(materialized=idr_incremental(), incremental_strategy='append') }}

with events as {{ idr_not_materialized() }} (
    select * from {{ ref('int_events_validated') }}
    where {{ idr_unprocessed() }}
),

candidates as (
    -- accepted events that may have no usable identifier (int_events_validated kept their raw text)
    select events.event_key
    from events
    where events.rejection_reason is null and {{ idr_may_lack_identifier('events') }}
),

usable_identifiers as (
    select * from {{ ref('int_identifiers_extracted') }}
    where
        not is_blocked
        and {{ idr_unprocessed() }}
        and event_key in (select candidates.event_key from candidates)
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
    where
        events.rejection_reason is null
        and events.event_key in (select candidates.event_key from candidates)
        and events.event_key not in (select usable_identifiers.event_key from usable_identifiers)
),

final as (
    select
        *,
        {{ idr_batch_marker() }} as batch_started_at
    from (
        select * from rejected
        union all
        select * from unidentified
    ) as all_rejected
)

select * from final
