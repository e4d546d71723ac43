{#- Stitching of this project's identity graph: the identity_stitch macro over `nodes`
    (int_identifiers_keyed rows) and `edges` (int_identity_edges_aggregated rows), links ordered as the
    rule of docs/resolution.md says (see "Merge protection") and cut after every priority but the last. The links
    are a subquery (computed where they are read: stored, they would carry every identifier's type
    and value); on engines that stitch in a loop of statements (Spark), both arguments are relations. -#}
{% macro idr_stitch_identity_graph(nodes, edges) -%}
    {%- set links -%}
    (
        select
            edges.identifier_a_key,
            edges.identifier_b_key,
            edges.weaker_priority as link_tier,
            edges.stronger_priority,
            edges.first_seen_at,
            trusted_nodes.identifier_type as trusted_type,
            trusted_nodes.identifier_value as trusted_value,
            other_nodes.identifier_type as other_type,
            other_nodes.identifier_value as other_value
        from {{ edges }} as edges
        inner join {{ nodes }} as trusted_nodes on edges.trusted_identifier_key = trusted_nodes.identifier_key
        inner join {{ nodes }} as other_nodes on edges.other_identifier_key = other_nodes.identifier_key
    )
    {%- endset %}
    select * from (
        {{ identity_stitch(
            nodes,
            links,
            link_order=[
                'link_tier', 'stronger_priority', 'first_seen_at',
                'trusted_type', 'trusted_value', 'other_type', 'other_value',
            ],
            tier_cuts=idr_identifier_priorities()[:-1],
        ) }}
    ) as stitched
{%- endmacro %}
