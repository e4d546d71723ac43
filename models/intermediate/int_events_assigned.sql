{#- The profile of every accepted event that has a usable identifier, the identifier that decided it and
    why (docs/resolution.md, "Which profile an event goes to"):
    - identifier: the event's most trusted identifier (lowest priority number, then type and value) is
      not shared (int_identifiers_shared);
    - unshared_identifier: it is shared, and the event goes to its most trusted unshared identifier;
    - session: every identifier of the event is shared, and the event goes to the person of the next
      identify on its most trusted identifier in the same session there (no gap longer than the var
      idr_session_gap_minutes), decided by that identify's most trusted unshared identifier;
    - shared_identifier: every identifier is shared and no such identify follows: its most trusted one.
    A decision depends on identifiers and their sharedness, never on profiles.
    Incremental: a run decides its new events again, and the events that carry an identifier whose
    sharedness changed or a shared identifier with new events (the sessions on it may have changed);
    it re-assigns the other events whose deciding identifier moved to another profile, and writes only
    the assignments that changed, so downstream models see exactly the events whose profile (or
    deciding identifier) changed; previous_profile_id says where such an event was before. -#}
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
{%- set unshared = 'shared_keys.identifier_key is null' %}

with all_event_identifiers as {{ idr_not_materialized() }} (
    select * from {{ ref('int_event_identifiers') }}
),

identifiers_keyed as {{ idr_not_materialized() }} (
    select * from {{ ref('int_identifiers_keyed') }}
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

identifiers_shared as (
    select * from {{ ref('int_identifiers_shared') }}
),

session_events_collected as (
    select * from {{ ref('int_session_events_collected') }}
),

shared_keys as (
    select identifier_key from identifiers_shared
    where is_shared
),

{%- if is_incremental() %}

touched_events as (
    -- new events, and events carrying an identifier that became shared or stopped being shared (all
    -- of whose rows are collected)
    select event_key from all_event_identifiers
    where {{ idr_unprocessed() }}
    union
    select event_key from session_events_collected
    where identifier_key in (
        select identifiers_shared.identifier_key
        from identifiers_shared
        where {{ idr_unprocessed('identifiers_shared') }}
    )
),

touched_sessions as (
    -- the shared identifiers those events carry: the sessions on them may have changed
    select distinct identifier_key from session_events_collected
    where
        event_key in (select touched_events.event_key from touched_events)
        and identifier_key in (select shared_keys.identifier_key from shared_keys)
),

session_rows as {{ idr_materialized() }} (
    -- every event, of all runs, on those shared identifiers
    select * from session_events_collected
    where identifier_key in (select touched_sessions.identifier_key from touched_sessions)
),

decided_events as (
    -- an event that is neither new nor carries an identifier whose sharedness changed keeps its
    -- decision, unless a session on a shared identifier decides it (the session may have changed)
    select event_key from touched_events
    union
    select event_key from session_rows
),

event_identifiers as {{ idr_materialized() }} (
    select * from all_event_identifiers
    where event_key in (select decided_events.event_key from decided_events)
),

session_keys as (
    -- the shared identifiers whose sessions decide events again (on the others, the only-shared events
    -- keep their decision: their sessions did not change)
    select identifier_key from touched_sessions
),

{%- else %}

event_identifiers as {{ idr_not_materialized() }} (
    select * from all_event_identifiers
),

session_rows as (
    select * from session_events_collected
),

session_keys as (
    select identifier_key from shared_keys
),

{%- endif %}

trust_bounds as (
    -- per event, in integers only: the smallest and the largest identifier_key among its identifiers
    -- of the best (lowest) priority, each packed with the priority so that one min finds it; the
    -- smallest decides the event unless it is an exception (below)
    select
        event_key,
        {{ idr_packed_min_key('identifier_priority', 'identifier_key', key_span) }} as lowest_key,
        {{ idr_packed_max_key('identifier_priority', 'identifier_key', key_span) }} as highest_key
    from event_identifiers
    group by event_key
),

exception_events as (
    -- the events that the smallest key may not decide: those with several identifiers of the best
    -- priority (a tie that type and value break), and those that carry a shared identifier (every row
    -- on one is collected)
    select event_key from trust_bounds
    where lowest_key <> highest_key
    union
    select event_key from session_events_collected
    where identifier_key in (select shared_keys.identifier_key from shared_keys)
),

exception_bounds as (
    -- for those events, in integers as in trust_bounds: the smallest and largest key of the best
    -- priority among all their identifiers and among their unshared ones (null when all are shared)
    select
        event_identifiers.event_key,
        {{ idr_packed_min_key('event_identifiers.identifier_priority', 'event_identifiers.identifier_key', key_span) }}
            as lowest_key,
        {{ idr_packed_max_key('event_identifiers.identifier_priority', 'event_identifiers.identifier_key', key_span) }}
            as highest_key,
        {{ idr_packed_min_key(
            'event_identifiers.identifier_priority', 'event_identifiers.identifier_key', key_span, unshared
        ) }} as lowest_unshared_key,
        {{ idr_packed_max_key(
            'event_identifiers.identifier_priority', 'event_identifiers.identifier_key', key_span, unshared
        ) }} as highest_unshared_key
    from event_identifiers
    inner join exception_events
        on event_identifiers.event_key = exception_events.event_key
    left join shared_keys
        on event_identifiers.identifier_key = shared_keys.identifier_key
    group by event_identifiers.event_key
),

tied_choices as (
    -- those of them with several identifiers of one best priority (among all, or among the unshared
    -- ones): the most trusted identifier (lowest priority, then type, then value) and the most trusted
    -- unshared one (null when all are shared)
    select
        event_identifiers.event_key,
        {{ idr_min_struct(trust_order) }} as most_trusted_identifier,
        {{ idr_min_struct(trust_order, unshared) }} as unshared_identifier
    from event_identifiers
    inner join exception_bounds
        on event_identifiers.event_key = exception_bounds.event_key
    inner join identifiers_keyed
        on event_identifiers.identifier_key = identifiers_keyed.identifier_key
    left join shared_keys
        on event_identifiers.identifier_key = shared_keys.identifier_key
    where
        exception_bounds.lowest_key <> exception_bounds.highest_key
        or exception_bounds.lowest_unshared_key <> exception_bounds.highest_unshared_key
    group by event_identifiers.event_key
),

choices as {{ idr_materialized() }} (
    -- each exception's most trusted identifier and most trusted unshared one: by their keys, or, where
    -- a priority is tied, by type and value
    select
        exception_bounds.event_key,
        -- (a struct's field, which the linter takes for a table's column)
        coalesce(
            tied_choices.most_trusted_identifier.identifier_key,  -- noqa: RF01
            exception_bounds.lowest_key
        ) as most_trusted_key,
        case
            when tied_choices.event_key is null then exception_bounds.lowest_unshared_key
            else tied_choices.unshared_identifier.identifier_key  -- noqa: RF01
        end as unshared_key
    from exception_bounds
    left join tied_choices
        on exception_bounds.event_key = tied_choices.event_key
),

only_shared as (
    -- the events whose every identifier is shared, with the most trusted one: its sessions decide them
    select
        event_key,
        most_trusted_key as session_key
    from choices
    where
        unshared_key is null
        and most_trusted_key in (select session_keys.identifier_key from session_keys)
),

{{ idr_session_decision_steps(trust_order) }},

exception_decisions as (
    -- the exceptions decided: by their session, else by their most trusted unshared identifier (an
    -- only-shared event without a session decision keeps its decision: no identifier)
    select
        choices.event_key,
        coalesce(session_decisions.assigned_by_identifier_key, choices.unshared_key) as assigned_by_identifier_key,
        case
            when session_decisions.event_key is not null then session_decisions.assignment_reason
            when choices.unshared_key <> choices.most_trusted_key then 'unshared_identifier'
            else 'identifier'
        end as assignment_reason
    from choices
    left join session_decisions
        on choices.event_key = session_decisions.event_key
),

decisions as (
    -- every other event is decided by its smallest key (a union, not a join: one anti-join of the
    -- events against the few exceptions, rather than a join that carries every event's columns)
    select
        event_key,
        lowest_key as assigned_by_identifier_key,
        'identifier' as assignment_reason
    from trust_bounds
    where event_key not in (select exception_events.event_key from exception_events)
    union all
    select
        event_key,
        assigned_by_identifier_key,
        assignment_reason
    from exception_decisions
    where assigned_by_identifier_key is not null
),

deciding_identifiers as (
    select
        event_key,
        assigned_by_identifier_key,
        assignment_reason
    from decisions
    {%- if is_incremental() %}
    union all
    select
        previous.event_key,
        previous.assigned_by_identifier_key,
        previous.assignment_reason
    from {{ this }} as previous
    where
        previous.assigned_by_identifier_key in (
            select identifiers_stitched.identifier_key
            from identifiers_stitched
            where {{ idr_unprocessed('identifiers_stitched', column='profile_changed_at') }}
        )
        and previous.event_key not in (select decisions.event_key from decisions)
    {%- endif %}
),

final as (
    select
        deciding_identifiers.event_key,
        identifiers_stitched.profile_id,
        deciding_identifiers.assigned_by_identifier_key,
        deciding_identifiers.assignment_reason,
        {%- if is_incremental() %}
        previous.profile_id as previous_profile_id,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as previous_profile_id,
        {%- endif %}
        {{ idr_batch_marker() }} as batch_started_at
    from deciding_identifiers
    inner join identifiers_stitched
        on deciding_identifiers.assigned_by_identifier_key = identifiers_stitched.identifier_key
    {%- if is_incremental() %}
    left join {{ this }} as previous
        on deciding_identifiers.event_key = previous.event_key
    where
        previous.event_key is null
        or previous.profile_id <> identifiers_stitched.profile_id
        or previous.assigned_by_identifier_key <> deciding_identifiers.assigned_by_identifier_key
        or previous.assignment_reason <> deciding_identifiers.assignment_reason
    {%- endif %}
)

select * from final
