{#- The stitching of the whole identity graph on its own: every identifier with the smallest key of
    its profile (merge protection included, profile ids aside). Not built by dbt; idr-benchmark
    compiles it and times it next to the plain connected components and scipy. -#}

-- The DuckDB version uses a keyed recursive CTE (USING KEY) that sqlfluff cannot parse yet.
-- sqlfluff:ignore:parsing
with components as (
    {{ idr_stitch_identity_graph(ref('int_identifiers_keyed'), ref('int_identity_edges_aggregated')) }}
),

final as (
    select
        identifier_key,
        component_key
    from components
)

select * from final
