{#- Identity stitching with merge protection.

    nodes: one row per identifier: identifier_key (integer; the smallest key of a group names it),
           identifier_type, identifier_limit, limit_window_start_at (null for limits over all time).
    edges: one row per link: identifier_a_key, identifier_b_key, link_tier, and the columns named in
           link_order.
    link_order: the columns of edges that order the links (ascending; the first is considered first).
           They must order every link apart, and start with link_tier.
    tier_cuts: link_tier values after which the links so far form a prefix of the order worth
           resolving on its own (e.g. every priority but the last); may be empty.

    Returns one row per node: identifier_key, component_key (the smallest key of its profile) and
    connected_key (the smallest key of its connected component, merge protection aside).
    The result is the one the rule of docs/resolution.md defines: links are taken in link_order and each
    merges the two groups it joins unless the merged group would hold more than identifier_limit
    identifiers of one type in one limit window. -#}
{% macro identity_stitch(nodes, edges, link_order, tier_cuts=[]) -%}
    {{ return(adapter.dispatch('identity_stitch', 'identity_resolution')(nodes, edges, link_order, tier_cuts)) }}
{%- endmacro %}

{% macro default__identity_stitch(nodes, edges, link_order, tier_cuts=[]) -%}
    {%- if execute %}
    {{ exceptions.raise_compiler_error(
        "identity_stitch has no implementation for the '" ~ adapter.type() ~ "' adapter yet; "
        ~ "add a " ~ adapter.type() ~ "__identity_stitch macro (see macros/stitching/identity_stitch.sql)"
    ) }}
    {%- endif %}
{%- endmacro %}

{#- DuckDB, in three steps.

    1. Plain connected components (identity_connected_components). A component that breaks no limit
       is final: no link inside it can be refused, because every group it could form holds no more
       than the whole component.
    2. In the components that break a limit, links are merged ahead of the rounds at prefix cuts.
       Links are ranked by tier first (link_tier, non-decreasing with link_rank), so the links up to
       the end of a tier are a prefix of the order; a group those links connect that breaks no limit
       is merged whatever the order inside it (every link in it joins two parts of it). Each cut's
       groups are the previous cut's groups joined by the tier's links (connected components of the
       contracted links), and every identifier starts from its group at the last cut where its
       group broke no limit.
    3. Those groups are resolved in rounds, a keyed recursive CTE whose state is every group's label
       and the first link between every two groups (a later link between the same two groups is
       internal if the first was taken, and refused if it was not, since groups only grow). Each round:
       - drops links inside one group (they change nothing, whenever they come);
       - refuses links whose two groups together already break a limit (groups only grow, so the
         link would be refused at its turn too);
       - merges along every link that is the first pending link of both its groups (nothing before
         it can change either group), and along the links of a hub to its satellites (groups whose
         every pending link goes to the hub) taken in order until the running total breaks a limit,
         that link being refused. The merges of a round form stars, so two hops find each new label.
       Rounds repeat until no link is pending. The CTEs a round reads more than once are materialized
       (DuckDB would otherwise compute them, and scan the round's whole state, once per reference). -#}
{% macro duckdb__identity_stitch(nodes, edges, link_order, tier_cuts=[]) -%}
    with recursive components as (
        {{ identity_connected_components(nodes, edges) }}
    ),

    protected_nodes as materialized (
        {{ idr_protected_nodes(nodes, 'components') }}
    ),

    protected_links as materialized (
        {{ idr_protected_links(edges, 'protected_nodes', link_order) }}
    ),

    cut_0_groups as (
        select
            identifier_key,
            identifier_key as group_key
        from protected_nodes
    ),
    {%- for cut in tier_cuts %}
    {%- set previous = 'cut_' ~ loop.index0 ~ '_groups' %}

    cut_{{ loop.index }}_links as (
        select distinct
            least(groups_a.group_key, groups_b.group_key) as identifier_a_key,
            greatest(groups_a.group_key, groups_b.group_key) as identifier_b_key
        from protected_links
        inner join {{ previous }} as groups_a on protected_links.identifier_a_key = groups_a.identifier_key
        inner join {{ previous }} as groups_b on protected_links.identifier_b_key = groups_b.identifier_key
        where
            protected_links.link_tier <= {{ cut }}
            {%- if not loop.first %}
            and protected_links.link_tier > {{ tier_cuts[loop.index0 - 1] }}
            {%- endif %}
            and groups_a.group_key <> groups_b.group_key
    ),

    cut_{{ loop.index }}_moves as (
        {{ idr_duckdb_component_moves('cut_' ~ loop.index ~ '_links') }}
    ),

    cut_{{ loop.index }}_groups as materialized (
        select
            {{ previous }}.identifier_key,
            coalesce(moves.label_key, {{ previous }}.group_key) as group_key
        from {{ previous }}
        left join cut_{{ loop.index }}_moves as moves on {{ previous }}.group_key = moves.node_key
    ),

    cut_{{ loop.index }}_broken_limits as (
        select cut_groups.group_key
        from cut_{{ loop.index }}_groups as cut_groups
        inner join protected_nodes on cut_groups.identifier_key = protected_nodes.identifier_key
        group by
            cut_groups.group_key,
            protected_nodes.identifier_type,
            protected_nodes.limit_window_start_at,
            protected_nodes.identifier_limit
        having {{ idr_breaks_limit('count(*)', 'protected_nodes.identifier_limit') }}
    ),

    cut_{{ loop.index }}_broken as (
        select broken_limits.group_key
        from cut_{{ loop.index }}_broken_limits as broken_limits
        group by broken_limits.group_key
    ),
    {%- endfor %}

    premerged as materialized (
        select
            cut_0_groups.identifier_key,
            {%- if tier_cuts %}
            case
                {%- for cut in tier_cuts | reverse %}
                {%- set index = tier_cuts | length - loop.index0 %}
                when cut_{{ index }}_broken.group_key is null then cut_{{ index }}_groups.group_key
                {%- endfor %}
                else cut_0_groups.identifier_key
            end as group_key
            {%- else %}
            cut_0_groups.identifier_key as group_key
            {%- endif %}
        from cut_0_groups
        {%- for cut in tier_cuts %}
        inner join cut_{{ loop.index }}_groups on cut_0_groups.identifier_key = cut_{{ loop.index }}_groups.identifier_key
        left join cut_{{ loop.index }}_broken on cut_{{ loop.index }}_groups.group_key = cut_{{ loop.index }}_broken.group_key
        {%- endfor %}
    ),

    group_members as materialized (
        {{ idr_group_members('premerged', 'protected_nodes') }}
    ),

    group_links as materialized (
        {{ idr_group_links('protected_links', 'premerged') }}
    ),

    round_seed as (
        {{ idr_stitch_round_rows('group_links', 'group_members') }}
    ),

    rounds (
        row_kind, label_a, label_b, link_rank, identifier_type, limit_window_start_at, identifier_limit, identifier_count
    ) as (
        select * from round_seed
        union all
        (
            {{ idr_stitch_round('rounds') }}
        )
    ),

    -- every merge of a round names the group's new label; follow them to the end
    resolved_groups (group_key, label_key) using key (group_key) as (
        select
            label_a as group_key,
            label_b as label_key
        from rounds
        where row_kind = 'merge'
        union
        select
            resolved_groups.group_key,
            later.label_key
        from resolved_groups
        inner join recurring.resolved_groups as later on resolved_groups.label_key = later.group_key
    )

    select
        components.identifier_key,
        components.component_key,
        components.component_key as connected_key
    from components
    where components.identifier_key not in (select protected_nodes.identifier_key from protected_nodes)
    union all
    select
        premerged.identifier_key,
        coalesce(resolved_groups.label_key, premerged.group_key) as component_key,
        components.component_key as connected_key
    from premerged
    inner join components on premerged.identifier_key = components.identifier_key
    left join resolved_groups on premerged.group_key = resolved_groups.group_key
{%- endmacro %}
