{#- The shared identifiers: those whose neighbourhood (the identifier itself and every identifier seen in an
    event with it) holds more identifiers of one type, at least as trusted as its own and first seen in one
    limit window, than that type's limit. No profile can hold such a neighbourhood, so the stitching refused
    at least one of the identifier's links: a family tablet's device id (two user ids), a kiosk's
    anonymousId. A person's own anonymousId on that tablet is not shared: its neighbours (the tablet, its
    person's user id) break no limit; its only conflict is through the tablet.
    Event assignment skips shared identifiers where it can (see int_events_assigned).
    Incremental: a run decides again the identifiers seen since the last change here and those linked
    to them (no other neighbourhood can have changed), and writes only the identifiers whose answer
    changed (is_shared false for one that is no longer shared), so that the assignment re-decides only
    their events. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='delete+insert', unique_key='identifier_key') }}

-- run after the stitching, not beside it: both use every core
-- depends_on: {{ ref("int_identifiers_stitched") }}

with identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),

edges as {{ idr_not_materialized() }} (
    select * from {{ ref('int_identity_edges_aggregated') }}
),

{%- if is_incremental() %}

seen_identifiers as (
    -- the identifiers seen since the last change here (a late event can move an identifier's first
    -- sighting into another limit window); the ends of every new link are among them
    select identifier_key from identifiers_keyed
    where {{ idr_unprocessed('identifiers_keyed') }}
),

candidates as (
    -- the identifiers whose neighbourhood may have changed: those, and every identifier linked to one
    select identifier_key from seen_identifiers
    union
    select identifier_b_key as identifier_key from edges
    where identifier_a_key in (select seen_identifiers.identifier_key from seen_identifiers)
    union
    select identifier_a_key as identifier_key from edges
    where identifier_b_key in (select seen_identifiers.identifier_key from seen_identifiers)
),

{%- endif %}

all_neighbourhoods as (
    -- each identifier with itself and with every identifier at least as trusted seen in an event with it:
    -- a link's more trusted end always, its other end only when the two have one priority
    select
        identifier_key,
        identifier_key as neighbour_key
    from identifiers_keyed
    union all
    select
        other_identifier_key as identifier_key,
        trusted_identifier_key as neighbour_key
    from edges
    union all
    select
        trusted_identifier_key as identifier_key,
        other_identifier_key as neighbour_key
    from edges
    where weaker_priority = stronger_priority
),

neighbourhoods as (
    select * from all_neighbourhoods
    {%- if is_incremental() %}
    where identifier_key in (select candidates.identifier_key from candidates)
    {%- endif %}
),

held_counts as (
    -- per identifier: how many identifiers of each type (and limit window) its neighbourhood holds
    select
        neighbourhoods.identifier_key,
        neighbour.identifier_type,
        neighbour.limit_window_start_at,
        neighbour.identifier_limit,
        count(*) as identifier_count
    from neighbourhoods
    inner join identifiers_keyed as neighbour
        on neighbourhoods.neighbour_key = neighbour.identifier_key
    group by
        neighbourhoods.identifier_key,
        neighbour.identifier_type,
        neighbour.limit_window_start_at,
        neighbour.identifier_limit
),

shared as (
    select distinct identifier_key
    from held_counts
    where {{ idr_breaks_limit('identifier_count', 'identifier_limit') }}
),

changes as (
    {%- if is_incremental() %}
    -- newly shared identifiers, and those no longer shared (a late event can move an identifier's first
    -- sighting into another limit window)
    select
        shared.identifier_key,
        true as is_shared
    from shared
    left join {{ this }} as previous
        on shared.identifier_key = previous.identifier_key
    where previous.identifier_key is null or not previous.is_shared
    union all
    select
        previous.identifier_key,
        false as is_shared
    from {{ this }} as previous
    where
        previous.is_shared
        and previous.identifier_key in (select candidates.identifier_key from candidates)
        and previous.identifier_key not in (select shared.identifier_key from shared)
    {%- else %}
    select
        identifier_key,
        true as is_shared
    from shared
    {%- endif %}
),

final as (
    select
        identifier_key,
        is_shared,
        {{ idr_batch_marker() }} as batch_started_at
    from changes
)

select * from final
