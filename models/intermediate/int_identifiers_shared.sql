{#- The shared identifiers: those whose neighbourhood (the identifier itself and every identifier seen in an
    event with it) holds more identifiers of one type, at least as trusted as its own and first seen in one
    limit window, than that type's limit. No profile can hold such a neighbourhood, so the stitching refused
    at least one of the identifier's links: a family tablet's device id (two user ids), a kiosk's
    anonymousId. A person's own anonymousId on that tablet is not shared: its neighbours (the tablet, its
    person's user id) break no limit; its only conflict is through the tablet.
    Event assignment skips shared identifiers where it can (see int_events_assigned).
    Incremental: every run decides again from all links, and writes only the identifiers whose answer
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

neighbourhoods as (
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
