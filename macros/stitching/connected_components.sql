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
    {%- call idr_step(steps, 'round_links', materialized=true, scan_only=true) %}
    select
        round_number,
        node_key as identifier_a_key,
        target_key as identifier_b_key
    from {{ contraction }}
    where row_kind = 'link'
    {%- endcall %}
    {%- call idr_step(steps, 'hooks', materialized=true) %}
    -- every node with a smaller neighbour, hooked to the smallest (links hold a < b)
    select
        identifier_b_key as node_key,
        min(identifier_a_key) as parent_key
    from round_links
    group by identifier_b_key
    {%- endcall %}
    {%- call idr_step(steps, 'second_hooks', materialized=true) %}
    select
        hooks.node_key,
        coalesce(parents.parent_key, hooks.parent_key) as parent_key
    from hooks
    left join hooks as parents on hooks.parent_key = parents.node_key
    {%- endcall %}
    {%- call idr_step(steps, 'moves', materialized=true) %}
    -- the nodes whose fourth hook is a root (a node without a smaller neighbour)
    select
        second_hooks.node_key,
        coalesce(fourth_hooks.parent_key, second_hooks.parent_key) as parent_key
    from second_hooks
    left join second_hooks as fourth_hooks on second_hooks.parent_key = fourth_hooks.node_key
    left join hooks as hooked on coalesce(fourth_hooks.parent_key, second_hooks.parent_key) = hooked.node_key
    where hooked.node_key is null
    {%- endcall %}
    {%- call idr_step(steps, 'moved_links', materialized=false) %}
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
    {%- endcall %}
    {%- call idr_step(steps, 'round_number', materialized=false) %}
    select max(round_number) + 1 as round_number from round_links
    {%- endcall %}
    {%- call idr_step(steps, none, materialized=false) %}
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
    {%- endcall %}
    {{ return(steps) }}
{%- endmacro %}
