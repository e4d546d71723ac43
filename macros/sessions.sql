{#- The sessions on shared identifiers (docs/resolution.md, "Which profile an event goes to", item 2), as
    CTEs of the query that calls it, ending in `session_decisions`: one row per event of `only_shared`
    (event_key, session_key: its most trusted identifier, every one of its identifiers shared) with
    assigned_by_identifier_key and assignment_reason, `session` when an identify that names a person
    follows it in its session on that identifier (no gap longer than the var idr_session_gap_minutes),
    else `shared_identifier` (the identifier itself). The CTEs it reads: `session_rows` (every event, of
    all runs, on the shared identifiers, with occurred_at and identify_message_id), `event_identifiers`
    (the identifiers of the events decided in this run), `identifiers_keyed` and `shared_keys`; the
    person an identify names is its most trusted unshared identifier in `trust_order`. -#}
{% macro idr_session_decision_steps(trust_order) -%}
session_events as (
    -- every event, of all runs, on the identifiers that decide those events; is_decided_here marks the
    -- only-shared events that this identifier decides
    select
        session_rows.event_key,
        session_rows.identifier_key as session_key,
        session_rows.occurred_at,
        session_rows.identify_message_id,
        only_shared.event_key is not null as is_decided_here
    from session_rows
    left join only_shared
        on
            session_rows.event_key = only_shared.event_key
            and session_rows.identifier_key = only_shared.session_key
    where session_rows.identifier_key in (select deciding.session_key from only_shared as deciding)
),

session_identifies as (
    -- the identifies among them
    select distinct
        event_key,
        identify_message_id as message_id
    from session_events
    where identify_message_id is not null
),

naming_choices as (
    -- of those, the ones with an unshared identifier: the most trusted one names the person (their
    -- identifiers are among event_identifiers: they are on a shared identifier of a decided event)
    select
        event_identifiers.event_key,
        session_identifies.message_id,
        {{ idr_min_struct(trust_order) }} as unshared_identifier
    from event_identifiers
    inner join session_identifies
        on event_identifiers.event_key = session_identifies.event_key
    inner join identifiers_keyed
        on event_identifiers.identifier_key = identifiers_keyed.identifier_key
    where event_identifiers.identifier_key not in (select shared_keys.identifier_key from shared_keys)
    group by event_identifiers.event_key, session_identifies.message_id
),

session_gaps as (
    select
        session_events.*,
        naming_choices.message_id,
        naming_choices.unshared_identifier.identifier_key as naming_key,  -- noqa: RF01
        lag(session_events.occurred_at) over (
            partition by session_events.session_key
            order by session_events.occurred_at
        ) as previous_occurred_at
    from session_events
    left join naming_choices
        on session_events.event_key = naming_choices.event_key
),

sessions as (
    -- a new session starts after a gap longer than the var (events at one time share a session)
    select
        *,
        sum(
            case
                when
                    previous_occurred_at is null
                    or {{ dbt.dateadd('minute', var('idr_session_gap_minutes'), 'previous_occurred_at') }}
                    < occurred_at
                    then 1
                else 0
            end
        ) over (partition by session_key order by occurred_at) as session_number
    from session_gaps
),

next_identifies as (
    -- for each only-shared event, the first naming identify of its session at its time or later (of
    -- several at one time, the smallest messageId)
    select
        event_key,
        session_key,
        {{ idr_min_struct(
            [('occurred_at', 'occurred_at'), ('message_id', 'message_id'), ('naming_key', 'naming_key')],
            'naming_key is not null',
        ) }} over (
            partition by session_key, session_number
            order by occurred_at
            range between current row and unbounded following
        ) as next_identify,
        is_decided_here
    from sessions
),

session_decisions as (
    -- the only-shared events, decided by their sessions
    select
        next_identifies.event_key,
        coalesce(
            next_identifies.next_identify.naming_key,  -- noqa: RF01
            next_identifies.session_key
        ) as assigned_by_identifier_key,
        case
            when next_identifies.next_identify.naming_key is null then 'shared_identifier'  -- noqa: RF01
            else 'session'
        end as assignment_reason
    from next_identifies
    where next_identifies.is_decided_here
)
{%- endmacro %}
