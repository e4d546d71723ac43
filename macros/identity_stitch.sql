{#- Connected components of the identity graph.

    nodes: a relation with one row per identifier, column `node_column` (an integer key);
    edges: a relation with one row per link, columns `edge_columns` (two node keys).
    Returns a query with one row per node: `identifier_key` and `component_key`, the smallest key
    of the node's connected group. -#}
{% macro identity_stitch(nodes, edges, node_column='identifier_key', edge_columns=['identifier_a_key', 'identifier_b_key']) -%}
    {{ return(adapter.dispatch('identity_stitch', 'identity_resolution')(nodes, edges, node_column, edge_columns)) }}
{%- endmacro %}

{#- Portable version: every node collects the set of nodes it reaches (UNION removes repeats, so
    the recursion ends), then keeps the smallest. Work grows with the square of a group's size. -#}
{% macro default__identity_stitch(nodes, edges, node_column, edge_columns) -%}
    with recursive undirected_edges as (
        select {{ edge_columns[0] }} as from_key, {{ edge_columns[1] }} as to_key from {{ edges }}
        union all
        select {{ edge_columns[1] }} as from_key, {{ edge_columns[0] }} as to_key from {{ edges }}
    ),

    reachable (identifier_key, reached_key) as (
        select
            {{ node_column }} as identifier_key,
            {{ node_column }} as reached_key
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

{#- DuckDB: min-label propagation in a keyed recursive CTE (USING KEY). Each round, every node that
    hears a smaller label from a neighbour whose label changed in the previous round takes it; the
    keyed table holds one row per node, so a round costs the changed part of the graph only. -#}
{% macro duckdb__identity_stitch(nodes, edges, node_column, edge_columns) -%}
    with recursive undirected_edges as (
        select {{ edge_columns[0] }} as from_key, {{ edge_columns[1] }} as to_key from {{ edges }}
        union all
        select {{ edge_columns[1] }} as from_key, {{ edge_columns[0] }} as to_key from {{ edges }}
    ),

    labels (identifier_key, component_key) using key (identifier_key) as (
        select
            {{ node_column }} as identifier_key,
            {{ node_column }} as component_key
        from {{ nodes }}
        union
        select
            undirected_edges.to_key as identifier_key,
            min(labels.component_key) as component_key
        from labels
        inner join undirected_edges
            on labels.identifier_key = undirected_edges.from_key
        inner join recurring.labels as current_labels
            on undirected_edges.to_key = current_labels.identifier_key
        group by undirected_edges.to_key, current_labels.component_key
        having min(labels.component_key) < current_labels.component_key
    )

    select
        identifier_key,
        component_key
    from labels
{%- endmacro %}
