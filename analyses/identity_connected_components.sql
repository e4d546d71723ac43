{#- The connected components of the whole identity graph, merge protection aside: every identifier
    with the smallest key of its component. Not built by dbt; idr-benchmark compiles it and
    times it against scipy's connected_components on the same edges. -#}

-- The DuckDB version uses a keyed recursive CTE (USING KEY) that sqlfluff cannot parse yet.
-- sqlfluff:ignore:parsing
with identifiers_keyed as (  -- noqa: ST03
    select * from {{ ref('int_identifiers_keyed') }}
),

identity_edges as (  -- noqa: ST03
    select * from {{ ref('int_identity_edges_aggregated') }}
),

components as (
    {{ identity_connected_components('identifiers_keyed', 'identity_edges') }}
),

final as (
    select
        identifier_key,
        component_key
    from components
)

select * from final
