{#- Identity stitching with merge protection.

    nodes: one row per identifier: identifier_key (integer; the smallest key of a group names it),
           identifier_type, identifier_limit, limit_window_start_at (null for limits over all time).
    edges: one row per link: identifier_a_key, identifier_b_key, link_rank (1 = considered first).

    Returns one row per node: identifier_key, component_key (the smallest key of its profile) and
    connected_key (the smallest key of its connected component, merge protection aside).
    The result is the one the README's rule defines: links are taken in link_rank order and each
    merges the two groups it joins unless the merged group would hold more than identifier_limit
    identifiers of one type in one limit window. -#}
{% macro identity_stitch(nodes, edges) -%}
    {{ return(adapter.dispatch('identity_stitch', 'identity_resolution')(nodes, edges)) }}
{%- endmacro %}

{% macro default__identity_stitch(nodes, edges) -%}
    {{ exceptions.raise_compiler_error(
        "identity_stitch has no implementation for the '" ~ adapter.type() ~ "' adapter yet; "
        ~ "add a " ~ adapter.type() ~ "__identity_stitch macro (see macros/identity_stitch.sql)"
    ) }}
{%- endmacro %}

{#- DuckDB, in two steps.

    1. Plain connected components (identity_connected_components). A component that breaks no limit
       is final: no link inside it can be refused, because every group it could form holds no more
       than the whole component.
    2. Only components that break a limit are resolved in rounds, a keyed recursive CTE whose state
       is every node's group label and every link's status. Each round:
       - drops links inside one group (they change nothing, whenever they come);
       - refuses links whose two groups together already break a limit (groups only grow, so the
         link would be refused at its turn too);
       - merges along every link that is the first pending link of both its groups (nothing before
         it can change either group), and along the links of a hub to its satellites (groups whose
         every pending link goes to the hub) taken in order until the running total breaks a limit,
         that link being refused. The merges of a round form stars, so two hops find each new label.
       Rounds repeat until no link is pending. The CTEs a round reads more than once are materialized
       (DuckDB would otherwise compute them, and scan the round's whole state, once per reference). -#}
{% macro duckdb__identity_stitch(nodes, edges) -%}
    with recursive components as (
        {{ identity_connected_components(nodes, edges) }}
    ),

    limited_components as (
        select distinct components.component_key
        from components
        inner join {{ nodes }} as nodes
            on components.identifier_key = nodes.identifier_key
        group by
            components.component_key,
            nodes.identifier_type,
            nodes.limit_window_start_at,
            nodes.identifier_limit
        having count(*) > nodes.identifier_limit
    ),

    protected_nodes as (
        select nodes.*
        from {{ nodes }} as nodes
        inner join components
            on nodes.identifier_key = components.identifier_key
        where components.component_key in (select limited_components.component_key from limited_components)
    ),

    round_seed as (
        select
            'node' as row_kind,
            identifier_key as row_key,
            identifier_key as label,
            cast(null as bigint) as node_a,
            cast(null as bigint) as node_b,
            cast(null as varchar) as link_status
        from protected_nodes
        union all
        select
            'link' as row_kind,
            edges.link_rank as row_key,
            cast(null as bigint) as label,
            edges.identifier_a_key as node_a,
            edges.identifier_b_key as node_b,
            'pending' as link_status
        from {{ edges }} as edges
        where edges.identifier_a_key in (select protected_nodes.identifier_key from protected_nodes)
    ),

    rounds (row_kind, row_key, label, node_a, node_b, link_status) using key (row_kind, row_key) as (
        select * from round_seed
        union
        (
            with state as materialized (
                select * from recurring.rounds
            ),

            labels as materialized (
                select row_key as identifier_key, label from state where row_kind = 'node'
            ),

            live_links as materialized (
                select
                    state.row_key as link_rank,
                    labels_a.label as label_a,
                    labels_b.label as label_b
                from state
                inner join labels as labels_a on state.node_a = labels_a.identifier_key
                inner join labels as labels_b on state.node_b = labels_b.identifier_key
                where state.row_kind = 'link' and state.link_status = 'pending'
            ),

            group_counts as materialized (
                select
                    labels.label,
                    protected_nodes.identifier_type,
                    protected_nodes.limit_window_start_at,
                    protected_nodes.identifier_limit,
                    count(*) as identifier_count
                from labels
                inner join protected_nodes on labels.identifier_key = protected_nodes.identifier_key
                group by all
            ),

            cross_links as materialized (
                select * from live_links where label_a <> label_b
            ),

            link_counts as (
                select
                    link_rank,
                    identifier_type,
                    limit_window_start_at,
                    identifier_limit,
                    sum(identifier_count) as identifier_count
                from (
                    select cross_links.link_rank, group_counts.*
                    from cross_links inner join group_counts on cross_links.label_a = group_counts.label
                    union all
                    select cross_links.link_rank, group_counts.*
                    from cross_links inner join group_counts on cross_links.label_b = group_counts.label
                ) as both_groups
                group by all
            ),

            refused_links as (
                select distinct link_rank from link_counts where identifier_count > identifier_limit
            ),

            candidate_links as materialized (
                select * from cross_links
                where link_rank not in (select refused_links.link_rank from refused_links)
            ),

            incidence as materialized (
                select link_rank, label_a as group_label, label_b as neighbour_label from candidate_links
                union all
                select link_rank, label_b as group_label, label_a as neighbour_label from candidate_links
            ),

            group_fronts as materialized (
                select
                    group_label,
                    min(link_rank) as first_rank,
                    count(distinct neighbour_label) as neighbour_count
                from incidence
                group by group_label
            ),

            mutual_links as materialized (
                select candidate_links.*
                from candidate_links
                inner join group_fronts as fronts_a
                    on candidate_links.label_a = fronts_a.group_label and candidate_links.link_rank = fronts_a.first_rank
                inner join group_fronts as fronts_b
                    on candidate_links.label_b = fronts_b.group_label and candidate_links.link_rank = fronts_b.first_rank
            ),

            hub_links as materialized (
                select
                    incidence.group_label as hub_label,
                    incidence.neighbour_label as satellite_label,
                    incidence.link_rank,
                    group_fronts.neighbour_count = 1 as is_satellite
                from incidence
                inner join group_fronts on incidence.neighbour_label = group_fronts.group_label
            ),

            hub_stops as (
                select hub_label, min(link_rank) as stop_rank
                from hub_links
                where not is_satellite
                group by hub_label
            ),

            star_links as materialized (
                select hub_links.hub_label, hub_links.satellite_label, min(hub_links.link_rank) as link_rank
                from hub_links
                left join hub_stops on hub_links.hub_label = hub_stops.hub_label
                where hub_links.is_satellite and (hub_stops.stop_rank is null or hub_links.link_rank < hub_stops.stop_rank)
                group by hub_links.hub_label, hub_links.satellite_label
            ),

            star_running_counts as (
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
            ),

            star_breaks as materialized (
                select running.hub_label, min(running.link_rank) as break_rank
                from star_running_counts as running
                left join group_counts as hub_counts
                    on
                        running.hub_label = hub_counts.label
                        and running.identifier_type = hub_counts.identifier_type
                        and running.limit_window_start_at is not distinct from hub_counts.limit_window_start_at
                where running.satellites_count + coalesce(hub_counts.identifier_count, 0) > running.identifier_limit
                group by running.hub_label
            ),

            star_merges as materialized (
                select star_links.*
                from star_links
                left join star_breaks on star_links.hub_label = star_breaks.hub_label
                where star_breaks.break_rank is null or star_links.link_rank < star_breaks.break_rank
            ),

            merge_pairs as materialized (
                select label_a as group_label, label_b as partner_label from mutual_links
                union all
                select label_b as group_label, label_a as partner_label from mutual_links
                union all
                select hub_label as group_label, satellite_label as partner_label from star_merges
                union all
                select satellite_label as group_label, hub_label as partner_label from star_merges
            ),

            first_hop as materialized (
                select group_label, least(group_label, min(partner_label)) as merged_label
                from merge_pairs
                group by group_label
            ),

            second_hop as (
                select first_hop.group_label, least(first_hop.merged_label, min(partner_hop.merged_label)) as merged_label
                from first_hop
                inner join merge_pairs on first_hop.group_label = merge_pairs.group_label
                inner join first_hop as partner_hop on merge_pairs.partner_label = partner_hop.group_label
                group by first_hop.group_label, first_hop.merged_label
            ),

            link_decisions as (
                select link_rank, 'internal' as link_status from live_links where label_a = label_b
                union
                select link_rank, 'refused' as link_status from refused_links
                union
                select break_rank as link_rank, 'refused' as link_status from star_breaks
                union
                select link_rank, 'accepted' as link_status from mutual_links
                union
                select link_rank, 'accepted' as link_status from star_merges
            )

            select
                'node' as row_kind,
                labels.identifier_key as row_key,
                second_hop.merged_label as label,
                cast(null as bigint) as node_a,
                cast(null as bigint) as node_b,
                cast(null as varchar) as link_status
            from labels
            inner join second_hop on labels.label = second_hop.group_label
            where second_hop.merged_label <> labels.label
            union all
            select
                'link' as row_kind,
                state.row_key,
                state.label,
                state.node_a,
                state.node_b,
                link_decisions.link_status
            from link_decisions
            inner join state on state.row_kind = 'link' and link_decisions.link_rank = state.row_key
        )
    )

    select
        components.identifier_key,
        components.component_key,
        components.component_key as connected_key
    from components
    where components.component_key not in (select limited_components.component_key from limited_components)
    union all
    select
        rounds.row_key as identifier_key,
        rounds.label as component_key,
        components.component_key as connected_key
    from rounds
    inner join components on rounds.row_key = components.identifier_key
    where rounds.row_kind = 'node'
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

{#- DuckDB: min-label propagation in a keyed recursive CTE (USING KEY), with shortcuts. Every node
    starts with the smallest key among itself and its neighbours. Each round, a node takes the
    smallest label it hears from a neighbour whose label changed in the previous round or, when its
    own label changed, from the node that label names (pointer jumping: labels are keys of nodes of
    the same component). Labels only decrease and stay inside the component, so the rounds end with
    every node labelled by its component's smallest key. The keyed table holds one row per node, so a
    round costs the changed part of the graph only. -#}
{% macro duckdb__identity_connected_components(nodes, edges) -%}
    with recursive undirected_edges as (
        select identifier_a_key as from_key, identifier_b_key as to_key from {{ edges }}
        union all
        select identifier_b_key as from_key, identifier_a_key as to_key from {{ edges }}
    ),

    labels (identifier_key, component_key) using key (identifier_key) as (
        select
            nodes.identifier_key,
            least(nodes.identifier_key, coalesce(min(undirected_edges.to_key), nodes.identifier_key)) as component_key
        from {{ nodes }} as nodes
        left join undirected_edges
            on nodes.identifier_key = undirected_edges.from_key
        group by nodes.identifier_key
        union
        select
            heard.identifier_key,
            min(heard.component_key) as component_key
        from (
            select
                undirected_edges.to_key as identifier_key,
                labels.component_key
            from labels
            inner join undirected_edges
                on labels.identifier_key = undirected_edges.from_key
            union all
            select
                labels.identifier_key,
                named.component_key
            from labels
            inner join recurring.labels as named
                on labels.component_key = named.identifier_key
        ) as heard
        inner join recurring.labels as current_labels
            on heard.identifier_key = current_labels.identifier_key
        group by heard.identifier_key, current_labels.component_key
        having min(heard.component_key) < current_labels.component_key
    )

    select
        identifier_key,
        component_key
    from labels
{%- endmacro %}
