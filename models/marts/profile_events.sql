{#- The timeline: every assigned event with its position in its profile's time order.
    Incremental: a run places the events whose assignment changed (new events, and events that moved
    to another profile or another deciding identifier), then numbers again the timelines of the
    profiles they joined or left, and writes only the rows whose position changed besides the placed
    ones: events later than a profile's last one are appended without touching the others. -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='message_id') }}

{%- set event_columns = [
    'message_id', 'event_type', 'event_name', 'occurred_at', 'received_at', 'user_id', 'anonymous_id',
    'app_name', 'device_id', 'device_type', 'properties',
] -%}
{%- set assignment_columns = ['assigned_by_identifier_type', 'assigned_by_identifier_value'] -%}
{%- set source_columns = ['event_source', 'source_name'] -%}

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

placed as (
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
        {{ idr_batch_marker() }} as batch_started_at,
        events.event_source,
        events.source_name
    from events
    inner join events_assigned
        on events.message_id = events_assigned.message_id
),

{%- if not is_incremental() %}

final as (
    select
        *,
        row_number() over (
            partition by profile_id
            order by occurred_at, received_at, message_id
        ) as timeline_position
    from placed
)

{%- else %}

previous_timeline as (
    select * from {{ this }}
),

affected_profiles as (
    -- the profiles events joined, and the profiles they left
    select placed.profile_id
    from placed
    union
    select previous_timeline.profile_id
    from previous_timeline
    inner join placed on previous_timeline.message_id = placed.message_id
),

kept as (
    -- the earlier events of those profiles that stay where they are
    select
        previous_timeline.message_id,
        previous_timeline.profile_id,
        previous_timeline.occurred_at,
        previous_timeline.received_at,
        previous_timeline.timeline_position as previous_position
    from previous_timeline
    where
        previous_timeline.profile_id in (select affected_profiles.profile_id from affected_profiles)
        and previous_timeline.message_id not in (select placed.message_id from placed)
),

sequenced as (
    select
        message_id,
        previous_position,
        row_number() over (
            partition by profile_id
            order by occurred_at, received_at, message_id
        ) as timeline_position
    from (
        select
            message_id,
            profile_id,
            occurred_at,
            received_at,
            cast(null as {{ dbt.type_bigint() }}) as previous_position
        from placed
        union all
        select
            message_id,
            profile_id,
            occurred_at,
            received_at,
            previous_position
        from kept
    ) as timeline_rows
),

moved_rows as (
    -- earlier rows whose position changes (an event placed before them, or one of their profile left)
    select
        previous_timeline.profile_id,
        {%- for column in event_columns + assignment_columns %}
        previous_timeline.{{ column }},
        {%- endfor %}
        {{ idr_batch_marker() }} as batch_started_at,
        {%- for column in source_columns %}
        previous_timeline.{{ column }},
        {%- endfor %}
        sequenced.timeline_position
    from previous_timeline
    inner join sequenced
        on
            previous_timeline.message_id = sequenced.message_id
            and sequenced.previous_position <> sequenced.timeline_position
),

final as (
    select
        placed.*,
        sequenced.timeline_position
    from placed
    inner join sequenced on placed.message_id = sequenced.message_id
    union all
    select * from moved_rows
)

{%- endif %}

select * from final
