{#- The timeline: every assigned event with its position in its profile's time order.
    Incremental: a run places the events whose assignment changed: new events (validated since its
    last run) and events that moved to another profile (taken from the timeline itself). Events that happened after all of a profile's other events, on a profile
    that loses none, are appended after them; the other profiles they join or leave are numbered
    again, and only the rows whose position changed are rewritten besides the placed ones. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='delete+insert', unique_key='message_id') }}

{%- set event_columns = [
    'message_id', 'event_type', 'event_name', 'occurred_at', 'received_at', 'is_received_at_stamped', 'user_id',
    'anonymous_id', 'app_name', 'device_id', 'device_type', 'properties',
] -%}
{#- each timeline column and the int_events_validated column it is -#}
{%- set event_selects = [] -%}
{%- for column in event_columns -%}
    {%- do event_selects.append((column, {
        'app_name': 'context_app_name', 'device_id': 'context_device_id', 'device_type': 'context_device_type',
    }.get(column, column))) -%}
{%- endfor -%}
{%- set assignment_columns = ['assigned_by_identifier_type', 'assigned_by_identifier_value', 'assignment_reason'] -%}
{%- set source_columns = ['event_source', 'source_name'] -%}

with events as {{ idr_not_materialized() }} (
    -- the events not placed before were validated after this model last ran (all of them accepted
    -- ones, as every assigned event is: a filter on rejection_reason here would make the engine take
    -- this, the wide side, for the smaller one and build its join's hash table on it)
    select * from {{ ref('int_events_validated') }}
    where {{ idr_unprocessed() }}
),

events_assigned as (
    select * from {{ ref('int_events_assigned') }}
    {%- if is_incremental() %}
    where {{ idr_unprocessed() }}
    {%- endif %}
),

identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),

{%- if not is_incremental() %}

positions as (
    -- every assigned event's place on its profile's timeline, numbered over narrow rows (the wide
    -- ones are joined to them after)
    select
        events_assigned.event_key,
        events_assigned.profile_id,
        events_assigned.assigned_by_identifier_key,
        events_assigned.assignment_reason,
        row_number() over (
            partition by events_assigned.profile_id
            order by events.occurred_at, events.received_at, events.message_id
        ) as timeline_position
    from events_assigned
    inner join events
        on events_assigned.event_key = events.event_key
),

final as (
    select
        positions.profile_id,
        {%- for column, expression in event_selects %}
        events.{{ expression }}{{ ' as ' ~ column if expression != column }},
        {%- endfor %}
        identifiers_keyed.identifier_type as assigned_by_identifier_type,
        identifiers_keyed.identifier_value as assigned_by_identifier_value,
        positions.assignment_reason,
        {{ idr_batch_marker() }} as batch_started_at,
        events.event_source,
        events.source_name,
        positions.timeline_position
    from events
    inner join positions
        on events.event_key = positions.event_key
    inner join identifiers_keyed
        on positions.assigned_by_identifier_key = identifiers_keyed.identifier_key
)

{%- else %}

assignments as (
    -- each assignment with its deciding identifier's type and value
    select
        events_assigned.event_key,
        events_assigned.profile_id,
        identifiers_keyed.identifier_type as assigned_by_identifier_type,
        identifiers_keyed.identifier_value as assigned_by_identifier_value,
        events_assigned.assignment_reason
    from events_assigned
    inner join identifiers_keyed
        on events_assigned.assigned_by_identifier_key = identifiers_keyed.identifier_key
),

moved as (
    -- the assignments with their events' messageIds, which find the events already on a timeline
    select
        assignments.*,
        validated.message_id
    from assignments
    inner join {{ ref('int_events_validated') }} as validated
        on assignments.event_key = validated.event_key
),

placed as (
    select
        assignments.profile_id,
        {%- for column, expression in event_selects %}
        events.{{ expression }}{{ ' as ' ~ column if expression != column }},
        {%- endfor %}
        {%- for column in assignment_columns %}
        assignments.{{ column }},
        {%- endfor %}
        {{ idr_batch_marker() }} as batch_started_at,
        events.event_source,
        events.source_name
    from events
    inner join assignments
        on events.event_key = assignments.event_key
    union all
    -- events already on a timeline that moved to another profile
    select
        moved.profile_id,
        {%- for column in event_columns %}
        previous.{{ column }},
        {%- endfor %}
        {%- for column in assignment_columns %}
        moved.{{ column }},
        {%- endfor %}
        {{ idr_batch_marker() }} as batch_started_at,
        {%- for column in source_columns %}
        previous.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as previous
    inner join moved
        on previous.message_id = moved.message_id
),

left_profiles as (
    -- the profiles the placed events leave (a placed event that was on a timeline moved)
    select distinct previous.profile_id
    from {{ this }} as previous
    where previous.message_id in (select placed.message_id from placed)
),

affected_profiles as (
    select placed.profile_id
    from placed
    union
    select left_profiles.profile_id
    from left_profiles
),

kept as (
    -- the earlier events of those profiles that stay on them
    select
        previous.message_id,
        previous.profile_id,
        previous.occurred_at,
        previous.received_at,
        previous.timeline_position as previous_position
    from {{ this }} as previous
    where
        previous.profile_id in (select affected_profiles.profile_id from affected_profiles)
        and previous.message_id not in (select placed.message_id from placed)
),

kept_tails as (
    select
        profile_id,
        count(*) as kept_count,
        max(occurred_at) as last_kept_occurred_at
    from kept
    group by profile_id
),

placed_heads as (
    select
        profile_id,
        min(occurred_at) as first_placed_occurred_at
    from placed
    group by profile_id
),

appended_profiles as (
    -- profiles that lose no event and whose placed events all happened after their last kept one:
    -- the placed events go to the end, the kept ones keep their positions
    select
        placed_heads.profile_id,
        coalesce(kept_tails.kept_count, 0) as kept_count
    from placed_heads
    left join kept_tails on placed_heads.profile_id = kept_tails.profile_id
    where
        placed_heads.profile_id not in (select left_profiles.profile_id from left_profiles)
        and (
            kept_tails.last_kept_occurred_at is null
            or placed_heads.first_placed_occurred_at > kept_tails.last_kept_occurred_at
        )
),

appended as (
    select
        placed.message_id,
        cast(null as {{ dbt.type_bigint() }}) as previous_position,
        appended_profiles.kept_count + row_number() over (
            partition by placed.profile_id
            order by placed.occurred_at, placed.received_at, placed.message_id
        ) as timeline_position
    from placed
    inner join appended_profiles on placed.profile_id = appended_profiles.profile_id
),

renumbered as (
    -- the other affected profiles are numbered again from 1
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
    where timeline_rows.profile_id not in (select appended_profiles.profile_id from appended_profiles)
),

sequenced as (
    select * from appended
    union all
    select * from renumbered
),

shifted_rows as (
    -- kept rows whose position changes (an event placed before them, or one of their profile's left)
    select
        previous.profile_id,
        {%- for column in event_columns + assignment_columns %}
        previous.{{ column }},
        {%- endfor %}
        {{ idr_batch_marker() }} as batch_started_at,
        {%- for column in source_columns %}
        previous.{{ column }},
        {%- endfor %}
        sequenced.timeline_position
    from {{ this }} as previous
    inner join sequenced
        on
            previous.message_id = sequenced.message_id
            and sequenced.previous_position <> sequenced.timeline_position
),

final as (
    select
        placed.*,
        sequenced.timeline_position
    from placed
    inner join sequenced on placed.message_id = sequenced.message_id
    union all
    select * from shifted_rows
)

{%- endif %}

select * from final
