{#- Every usable identifier with the profile it belongs to. The identity_stitch macro groups the
    identifiers the links connect, with merge protection (limits and priorities); a group's
    profile_id is derived from its oldest identifier, so the same input always gives the same ids. -#}
-- The DuckDB stitching uses a keyed recursive CTE (USING KEY) that sqlfluff cannot parse yet.
-- sqlfluff:ignore:parsing
with identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),

identity_edges as (  -- noqa: ST03
    select * from {{ ref('int_identity_edges_aggregated') }}
),

components as (
    {{ identity_stitch('identifiers_keyed', 'identity_edges') }}
),

anchors as (
    select
        components.component_key,
        {{ idr_sql_string(var('idr_profile_id_prefix')) }} || substr(
            {{ dbt.hash("identifiers_keyed.identifier_type || ':' || identifiers_keyed.identifier_value") }}, 1, 20
        ) as profile_id
    from components
    inner join identifiers_keyed
        on components.component_key = identifiers_keyed.identifier_key
    where components.identifier_key = components.component_key
),

final as (
    select
        identifiers_keyed.identifier_key,
        identifiers_keyed.identifier_type,
        identifiers_keyed.identifier_value,
        identifiers_keyed.identifier_priority,
        identifiers_keyed.first_seen_at,
        identifiers_keyed.last_seen_at,
        identifiers_keyed.event_count,
        identifiers_keyed.identifier_limit,
        identifiers_keyed.limit_window_start_at,
        anchors.profile_id
    from identifiers_keyed
    inner join components
        on identifiers_keyed.identifier_key = components.identifier_key
    inner join anchors
        on components.component_key = anchors.component_key
)

select * from final
