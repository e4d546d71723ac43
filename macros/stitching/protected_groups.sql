{#- The steps before the rounds, shared by every engine. The identifiers of the components that break
    a limit: the only ones merge protection can keep apart. -#}
{% macro idr_protected_nodes(nodes, components) -%}
    select nodes.*
    from {{ nodes }} as nodes
    inner join {{ components }} as components on nodes.identifier_key = components.identifier_key
    where components.component_key in (
        select limited.component_key
        from {{ components }} as limited
        inner join {{ nodes }} as limited_nodes on limited.identifier_key = limited_nodes.identifier_key
        group by
            limited.component_key,
            limited_nodes.identifier_type,
            limited_nodes.limit_window_start_at,
            limited_nodes.identifier_limit
        having {{ idr_breaks_limit('count(*)', 'limited_nodes.identifier_limit') }}
    )
{%- endmacro %}

{#- The links of the protected identifiers, ranked in `link_order`. -#}
{% macro idr_protected_links(edges, protected_nodes, link_order) -%}
    select
        edges.identifier_a_key,
        edges.identifier_b_key,
        edges.link_tier,
        row_number() over (order by {{ link_order | join(', ') }}) as link_rank
    from {{ edges }} as edges
    where edges.identifier_a_key in (select protected.identifier_key from {{ protected_nodes }} as protected)
{%- endmacro %}

{#- The limit counts of the groups the rounds start from (`premerged`: identifier_key, group_key). -#}
{% macro idr_group_members(premerged, protected_nodes) -%}
    select
        premerged.group_key as label,
        protected.identifier_type,
        protected.limit_window_start_at,
        protected.identifier_limit,
        count(*) as identifier_count
    from {{ premerged }} as premerged
    inner join {{ protected_nodes }} as protected on premerged.identifier_key = protected.identifier_key
    group by all
{%- endmacro %}

{#- The first link between every two of those groups. -#}
{% macro idr_group_links(protected_links, premerged) -%}
    select
        least(groups_a.group_key, groups_b.group_key) as label_a,
        greatest(groups_a.group_key, groups_b.group_key) as label_b,
        min(links.link_rank) as link_rank
    from {{ protected_links }} as links
    inner join {{ premerged }} as groups_a on links.identifier_a_key = groups_a.identifier_key
    inner join {{ premerged }} as groups_b on links.identifier_b_key = groups_b.identifier_key
    where groups_a.group_key <> groups_b.group_key
    group by all
{%- endmacro %}
