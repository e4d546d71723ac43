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
        ~ "add a " ~ adapter.type() ~ "__identity_stitch macro (see macros/identity_stitch.sql)"
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

    cut_{{ loop.index }}_broken as (
        select distinct cut_groups.group_key
        from cut_{{ loop.index }}_groups as cut_groups
        inner join protected_nodes on cut_groups.identifier_key = protected_nodes.identifier_key
        group by
            cut_groups.group_key,
            protected_nodes.identifier_type,
            protected_nodes.limit_window_start_at,
            protected_nodes.identifier_limit
        having count(*) > protected_nodes.identifier_limit
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
        having count(*) > max(limited_nodes.identifier_limit)
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


{#- One round of the merge-protection rounds of identity_stitch: from `state` (the pending links and
    the limit counts of the groups they join, as idr_stitch_round_rows writes them) to the next state,
    plus a 'merge' row (label_a: the group, label_b: its new label) for every group merged. DuckDB runs
    it in a recursive CTE, Spark in a loop (identity_stitch). -#}
{% macro idr_stitch_round(state) -%}
    {{ idr_steps_as_query(idr_stitch_round_steps(state)) }}
{%- endmacro %}

{% macro idr_stitch_round_steps(state) -%}
    {%- set steps = [] -%}
    {%- set sql %}
    select * from {{ state }}
    {%- endset %}
    {%- do steps.append({'name': 'state', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select label_a, label_b, link_rank from state where row_kind = 'link'
    {%- endset %}
    {%- do steps.append({'name': 'live_links', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select
        label_a as label,
        identifier_type,
        limit_window_start_at,
        identifier_limit,
        identifier_count
    from state
    where row_kind = 'count'
    {%- endset %}
    {%- do steps.append({'name': 'group_counts', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select
        link_rank,
        identifier_type,
        limit_window_start_at,
        identifier_limit,
        sum(identifier_count) as identifier_count
    from (
        select
            live_links.link_rank,
            group_counts.identifier_type,
            group_counts.limit_window_start_at,
            group_counts.identifier_limit,
            group_counts.identifier_count
        from live_links inner join group_counts on live_links.label_a = group_counts.label
        union all
        select
            live_links.link_rank,
            group_counts.identifier_type,
            group_counts.limit_window_start_at,
            group_counts.identifier_limit,
            group_counts.identifier_count
        from live_links inner join group_counts on live_links.label_b = group_counts.label
    ) as both_groups
    group by all
    {%- endset %}
    {%- do steps.append({'name': 'link_counts', 'sql': sql, 'materialized': false}) -%}
    {%- set sql %}
    select distinct link_rank from link_counts where identifier_count > identifier_limit
    {%- endset %}
    {%- do steps.append({'name': 'refused_links', 'sql': sql, 'materialized': false}) -%}
    {%- set sql %}
    select * from live_links
    where link_rank not in (select refused_links.link_rank from refused_links)
    {%- endset %}
    {%- do steps.append({'name': 'candidate_links', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select link_rank, label_a as group_label, label_b as neighbour_label from candidate_links
    union all
    select link_rank, label_b as group_label, label_a as neighbour_label from candidate_links
    {%- endset %}
    {%- do steps.append({'name': 'incidence', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select
        group_label,
        min(link_rank) as first_rank,
        count(distinct neighbour_label) as neighbour_count
    from incidence
    group by group_label
    {%- endset %}
    {%- do steps.append({'name': 'group_fronts', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select candidate_links.*
    from candidate_links
    inner join group_fronts as fronts_a
        on candidate_links.label_a = fronts_a.group_label and candidate_links.link_rank = fronts_a.first_rank
    inner join group_fronts as fronts_b
        on candidate_links.label_b = fronts_b.group_label and candidate_links.link_rank = fronts_b.first_rank
    {%- endset %}
    {%- do steps.append({'name': 'mutual_links', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select
        incidence.group_label as hub_label,
        incidence.neighbour_label as satellite_label,
        incidence.link_rank,
        group_fronts.neighbour_count = 1 as is_satellite
    from incidence
    inner join group_fronts on incidence.neighbour_label = group_fronts.group_label
    {%- endset %}
    {%- do steps.append({'name': 'hub_links', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select hub_label, min(link_rank) as stop_rank
    from hub_links
    where not is_satellite
    group by hub_label
    {%- endset %}
    {%- do steps.append({'name': 'hub_stops', 'sql': sql, 'materialized': false}) -%}
    {%- set sql %}
    select hub_links.hub_label, hub_links.satellite_label, min(hub_links.link_rank) as link_rank
    from hub_links
    left join hub_stops on hub_links.hub_label = hub_stops.hub_label
    where hub_links.is_satellite and (hub_stops.stop_rank is null or hub_links.link_rank < hub_stops.stop_rank)
    group by hub_links.hub_label, hub_links.satellite_label
    {%- endset %}
    {%- do steps.append({'name': 'star_links', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select
        star_links.hub_label,
        star_links.link_rank,
        group_counts.identifier_type,
        group_counts.limit_window_start_at,
        group_counts.identifier_limit,
        sum(group_counts.identifier_count) over (
            partition by star_links.hub_label, group_counts.identifier_type, group_counts.limit_window_start_at
            order by star_links.link_rank
            rows between unbounded preceding and current row
        ) as satellites_count
    from star_links
    inner join group_counts on star_links.satellite_label = group_counts.label
    {%- endset %}
    {%- do steps.append({'name': 'star_running_counts', 'sql': sql, 'materialized': false}) -%}
    {%- set sql %}
    select running.hub_label, min(running.link_rank) as break_rank
    from star_running_counts as running
    left join group_counts as hub_counts
        on
            running.hub_label = hub_counts.label
            and running.identifier_type = hub_counts.identifier_type
            and running.limit_window_start_at is not distinct from hub_counts.limit_window_start_at
    where running.satellites_count + coalesce(hub_counts.identifier_count, 0) > running.identifier_limit
    group by running.hub_label
    {%- endset %}
    {%- do steps.append({'name': 'star_breaks', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select star_links.*
    from star_links
    left join star_breaks on star_links.hub_label = star_breaks.hub_label
    where star_breaks.break_rank is null or star_links.link_rank < star_breaks.break_rank
    {%- endset %}
    {%- do steps.append({'name': 'star_merges', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select label_a as group_label, label_b as partner_label from mutual_links
    union all
    select label_b as group_label, label_a as partner_label from mutual_links
    union all
    select hub_label as group_label, satellite_label as partner_label from star_merges
    union all
    select satellite_label as group_label, hub_label as partner_label from star_merges
    {%- endset %}
    {%- do steps.append({'name': 'merge_pairs', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select group_label, least(group_label, min(partner_label)) as merged_label
    from merge_pairs
    group by group_label
    {%- endset %}
    {%- do steps.append({'name': 'first_hop', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select first_hop.group_label, least(first_hop.merged_label, min(partner_hop.merged_label)) as merged_label
    from first_hop
    inner join merge_pairs on first_hop.group_label = merge_pairs.group_label
    inner join first_hop as partner_hop on merge_pairs.partner_label = partner_hop.group_label
    group by first_hop.group_label, first_hop.merged_label
    having least(first_hop.merged_label, min(partner_hop.merged_label)) <> first_hop.group_label
    {%- endset %}
    {%- do steps.append({'name': 'new_labels', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select link_rank from mutual_links
    union all
    select link_rank from star_merges
    union all
    select break_rank as link_rank from star_breaks
    {%- endset %}
    {%- do steps.append({'name': 'decided_links', 'sql': sql, 'materialized': false}) -%}
    {%- set sql %}
-- the links still pending, between the groups as they are now; of several links between
-- the same two groups only the first matters (the later ones follow its fate)
    select
        least(moved.label_a, moved.label_b) as label_a,
        greatest(moved.label_a, moved.label_b) as label_b,
        min(moved.link_rank) as link_rank
    from (
        select
            coalesce(new_labels_a.merged_label, candidate_links.label_a) as label_a,
            coalesce(new_labels_b.merged_label, candidate_links.label_b) as label_b,
            candidate_links.link_rank
        from candidate_links
        left join new_labels as new_labels_a on candidate_links.label_a = new_labels_a.group_label
        left join new_labels as new_labels_b on candidate_links.label_b = new_labels_b.group_label
        where candidate_links.link_rank not in (select decided_links.link_rank from decided_links)
    ) as moved
    where moved.label_a <> moved.label_b
    group by all
    {%- endset %}
    {%- do steps.append({'name': 'next_links', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select
        coalesce(new_labels.merged_label, group_counts.label) as label,
        group_counts.identifier_type,
        group_counts.limit_window_start_at,
        group_counts.identifier_limit,
        sum(group_counts.identifier_count) as identifier_count
    from group_counts
    left join new_labels on group_counts.label = new_labels.group_label
    group by all
    {%- endset %}
    {%- do steps.append({'name': 'next_counts', 'sql': sql, 'materialized': false}) -%}
    {%- set sql %}
    {{ idr_stitch_round_rows('next_links', 'next_counts') }}
    union all
    select
        'merge' as row_kind,
        group_label as label_a,
        merged_label as label_b,
        cast(null as bigint) as link_rank,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_timestamp() }}) as limit_window_start_at,
        cast(null as {{ dbt.type_int() }}) as identifier_limit,
        cast(null as bigint) as identifier_count
    from new_labels
    {%- endset %}
    {%- do steps.append({'name': none, 'sql': sql, 'materialized': false}) -%}
    {{ return(steps) }}
{%- endmacro %}


{#- The state a round of duckdb__identity_stitch hands to the next: the pending links (label_a,
    label_b, link_rank) and the limit counts (label, identifier_type, limit_window_start_at,
    identifier_limit, identifier_count) of the groups they join. -#}
{% macro idr_stitch_round_rows(links, counts) -%}
    select
        'link' as row_kind,
        label_a,
        label_b,
        link_rank,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_timestamp() }}) as limit_window_start_at,
        cast(null as {{ dbt.type_int() }}) as identifier_limit,
        cast(null as bigint) as identifier_count
    from {{ links }}
    union all
    select
        'count' as row_kind,
        label as label_a,
        cast(null as bigint) as label_b,
        cast(null as bigint) as link_rank,
        identifier_type,
        limit_window_start_at,
        identifier_limit,
        identifier_count
    from {{ counts }}
    where
        label in (select {{ links }}.label_a from {{ links }})
        or label in (select {{ links }}.label_b from {{ links }})
{%- endmacro %}


{#- Plain connected components: one row per node, identifier_key and component_key (the smallest key
    of its connected group). Used by identity_stitch for the groups that break no limit. -#}
{% macro identity_connected_components(nodes, edges) -%}
    {{ return(adapter.dispatch('identity_connected_components', 'identity_resolution')(nodes, edges)) }}
{%- endmacro %}

{#- Portable version: every node collects the set of nodes it reaches (UNION removes repeats, so
    the recursion ends), then keeps the smallest. Work grows with the square of a group's size. -#}
{% macro default__identity_connected_components(nodes, edges) -%}
    with recursive undirected_edges as (
        select identifier_a_key as from_key, identifier_b_key as to_key from {{ edges }}
        union all
        select identifier_b_key as from_key, identifier_a_key as to_key from {{ edges }}
    ),

    reachable (identifier_key, reached_key) as (
        select
            identifier_key,
            identifier_key as reached_key
        from {{ nodes }}
        union
        select
            reachable.identifier_key,
            undirected_edges.to_key as reached_key
        from reachable
        inner join undirected_edges
            on reachable.reached_key = undirected_edges.from_key
    )

    select
        identifier_key,
        min(reached_key) as component_key
    from reachable
    group by identifier_key
{%- endmacro %}

{#- DuckDB: connected components by contraction (idr_duckdb_component_moves); a node that never
    moves is the smallest key of its component. -#}
{% macro duckdb__identity_connected_components(nodes, edges) -%}
    with edge_pairs as (
        select
            least(identifier_a_key, identifier_b_key) as identifier_a_key,
            greatest(identifier_a_key, identifier_b_key) as identifier_b_key
        from {{ edges }}
        where identifier_a_key <> identifier_b_key
    ),

    moves as (
        {{ idr_duckdb_component_moves('edge_pairs') }}
    )

    select
        nodes.identifier_key,
        coalesce(moves.label_key, nodes.identifier_key) as component_key
    from {{ nodes }} as nodes
    left join moves on nodes.identifier_key = moves.node_key
{%- endmacro %}

{#- Where each node of a graph goes when its connected component is contracted to its smallest key:
    one row per node that is not the smallest key of its component, node_key and label_key (that
    smallest key). `edges` holds identifier_a_key < identifier_b_key, without repeats.

    Contraction rounds (a recursive CTE, one round per step). Each node with a smaller neighbour
    hooks to the smallest; hooks are followed four steps (two pointer jumps), and a node whose fourth
    hook is a root (a node without a smaller neighbour) moves to that root. The links are then
    rewritten between the nodes' new places, and those inside one node dropped. Each round removes
    at least every neighbour of every root, and labels only move to smaller keys of the same
    component, so the rounds end with each component one node: its smallest key, which never
    moves. A second, keyed recursion (USING KEY) follows each node's moves to the end. Work shrinks
    with the links left, which fall fast on identity graphs (most components are small). -#}
{% macro idr_duckdb_component_moves(edges) -%}
    with recursive contraction (round_number, row_kind, node_key, target_key) as (
        select
            0 as round_number,
            'link' as row_kind,
            identifier_a_key as node_key,
            identifier_b_key as target_key
        from {{ edges }}
        union all
        (
            {{ idr_contraction_round('contraction') }}
        )
    ),

    resolved (node_key, label_key) using key (node_key) as (
        select
            node_key,
            target_key as label_key
        from contraction
        where row_kind = 'move'
        union
        select
            resolved.node_key,
            later.label_key
        from resolved
        inner join recurring.resolved as later on resolved.label_key = later.node_key
    )

    select
        node_key,
        label_key
    from resolved
{%- endmacro %}


{#- One contraction round of idr_duckdb_component_moves (and of the Spark loop): from the 'link' rows
    of `contraction` (round_number, row_kind, node_key, target_key) to this round's 'move' rows and the
    links between the nodes' new places. -#}
{% macro idr_contraction_round(contraction) -%}
    {{ idr_steps_as_query(idr_contraction_round_steps(contraction)) }}
{%- endmacro %}

{% macro idr_contraction_round_steps(contraction) -%}
    {%- set steps = [] -%}
    {%- set sql %}
    select
        round_number,
        node_key as identifier_a_key,
        target_key as identifier_b_key
    from {{ contraction }}
    where row_kind = 'link'
    {%- endset %}
    {%- do steps.append({'name': 'round_links', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    -- every node with a smaller neighbour, hooked to the smallest (links hold a < b)
    select
        identifier_b_key as node_key,
        min(identifier_a_key) as parent_key
    from round_links
    group by identifier_b_key
    {%- endset %}
    {%- do steps.append({'name': 'hooks', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select
        hooks.node_key,
        coalesce(parents.parent_key, hooks.parent_key) as parent_key
    from hooks
    left join hooks as parents on hooks.parent_key = parents.node_key
    {%- endset %}
    {%- do steps.append({'name': 'second_hooks', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    -- the nodes whose fourth hook is a root (a node without a smaller neighbour)
    select
        second_hooks.node_key,
        coalesce(fourth_hooks.parent_key, second_hooks.parent_key) as parent_key
    from second_hooks
    left join second_hooks as fourth_hooks on second_hooks.parent_key = fourth_hooks.node_key
    left join hooks as hooked on coalesce(fourth_hooks.parent_key, second_hooks.parent_key) = hooked.node_key
    where hooked.node_key is null
    {%- endset %}
    {%- do steps.append({'name': 'moves', 'sql': sql, 'materialized': true}) -%}
    {%- set sql %}
    select distinct
        least(
            coalesce(moves_a.parent_key, round_links.identifier_a_key),
            coalesce(moves_b.parent_key, round_links.identifier_b_key)
        ) as identifier_a_key,
        greatest(
            coalesce(moves_a.parent_key, round_links.identifier_a_key),
            coalesce(moves_b.parent_key, round_links.identifier_b_key)
        ) as identifier_b_key
    from round_links
    left join moves as moves_a on round_links.identifier_a_key = moves_a.node_key
    left join moves as moves_b on round_links.identifier_b_key = moves_b.node_key
    {%- endset %}
    {%- do steps.append({'name': 'moved_links', 'sql': sql, 'materialized': false}) -%}
    {%- set sql %}
    select max(round_number) + 1 as round_number from round_links
    {%- endset %}
    {%- do steps.append({'name': 'round_number', 'sql': sql, 'materialized': false}) -%}
    {%- set sql %}
    select
        round_number.round_number,
        'move' as row_kind,
        moves.node_key,
        moves.parent_key as target_key
    from moves
    cross join round_number
    union all
    select
        round_number.round_number,
        'link' as row_kind,
        moved_links.identifier_a_key as node_key,
        moved_links.identifier_b_key as target_key
    from moved_links
    cross join round_number
    where moved_links.identifier_a_key <> moved_links.identifier_b_key
    {%- endset %}
    {%- do steps.append({'name': none, 'sql': sql, 'materialized': false}) -%}
    {{ return(steps) }}
{%- endmacro %}


{#- A query from steps (a list of {name, sql, materialized}; the last step, without a name, is the
    final select): the steps before it as CTEs, stored (`materialized`) where the step says so. -#}
{% macro idr_steps_as_query(steps) -%}
    with
    {%- for step in steps[:-1] %}
    {{ step.name }} as {{ idr_materialized() if step.materialized }} (
        {{ step.sql | indent(8) }}
    ){{ ',' if not loop.last }}
    {%- endfor %}

    {{ steps[-1].sql }}
{%- endmacro %}
