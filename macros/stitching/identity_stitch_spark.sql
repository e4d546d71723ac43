{#- Spark: the same stitching as DuckDB's, with the rounds driven from the macro.

    Spark's recursive CTEs allow no aggregate on the recursive reference, so each round is a statement
    of its own that stores its result in a scratch table (idr_spark_cache), and a count says whether
    another round is needed. The rounds are the very ones DuckDB runs in its recursive CTEs
    (idr_contraction_round, idr_stitch_round); only the driving differs. `nodes` and `edges` must be relations or subqueries
    over relations (a statement of its own cannot read the calling model's CTEs). Tier cuts only save
    work, and are not made here. -#}
{% macro spark__identity_stitch(nodes, edges, link_order, tier_cuts=[]) -%}
    {%- if not execute -%}
        {{ return(idr_spark_stitch_placeholder()) }}
    {%- endif -%}
    {%- set prefix = idr_spark_scratch_prefix() -%}
    {%- set components = idr_spark_components(nodes, edges, prefix ~ 'components') -%}

    {%- do idr_spark_cache(prefix ~ 'protected_nodes', idr_protected_nodes(nodes, components)) -%}
    {%- set protected_links = '(' ~ idr_protected_links(edges, prefix ~ 'protected_nodes', link_order) ~ ')' -%}
    {#- no tier cuts: every identifier starts as a group of its own -#}
    {%- set premerged = '(select identifier_key, identifier_key as group_key from ' ~ prefix ~ 'protected_nodes)' -%}
    {%- do idr_spark_cache(prefix ~ 'group_links', idr_group_links(protected_links, premerged)) -%}
    {%- do idr_spark_cache(prefix ~ 'group_members', idr_group_members(premerged, prefix ~ 'protected_nodes')) -%}

    {%- set query -%}
        {{ idr_stitch_round_rows(prefix ~ 'group_links', prefix ~ 'group_members') }}
    {%- endset -%}
    {%- do idr_spark_cache(prefix ~ 'round_0', query) -%}

    {%- set rounds = idr_spark_loop(prefix ~ 'round_', 'idr_stitch_round', "row_kind = 'link'") -%}

    {%- set query -%}
        {%- for round in rounds %}
        select label_a as node_key, label_b as label_key from {{ round }} where row_kind = 'merge'
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {%- do idr_spark_cache(prefix ~ 'merges', query) -%}
    {%- set merged = idr_spark_follow(prefix ~ 'merges', prefix ~ 'merged_') -%}

    select
        components.identifier_key,
        coalesce(merged.label_key, protected.identifier_key, components.component_key) as component_key,
        components.component_key as connected_key
    from {{ components }} as components
    left join {{ prefix }}protected_nodes as protected on components.identifier_key = protected.identifier_key
    left join {{ merged }} as merged on protected.identifier_key = merged.node_key
{%- endmacro %}

{% macro spark__identity_connected_components(nodes, edges) -%}
    {%- if not execute -%}
        {{ return(idr_spark_stitch_placeholder()) }}
    {%- endif -%}
    select * from {{ idr_spark_components(nodes, edges, idr_spark_scratch_prefix() ~ 'components') }}
{%- endmacro %}

{#- Plain connected components in a loop of contraction rounds: caches `name` (identifier_key,
    component_key) and returns its name. -#}
{% macro idr_spark_components(nodes, edges, name) -%}
    {%- set prefix = name ~ '_' -%}
    {%- set query -%}
        select distinct
            0 as round_number,
            'link' as row_kind,
            least(identifier_a_key, identifier_b_key) as node_key,
            greatest(identifier_a_key, identifier_b_key) as target_key
        from {{ edges }}
        where identifier_a_key <> identifier_b_key
    {%- endset -%}
    {%- do idr_spark_cache(prefix ~ 'round_0', query) -%}
    {%- set rounds = idr_spark_loop(prefix ~ 'round_', 'idr_contraction_round', "row_kind = 'link'") -%}
    {%- set query -%}
        {%- for round in rounds %}
        select node_key, target_key as label_key from {{ round }} where row_kind = 'move'
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {%- do idr_spark_cache(prefix ~ 'moves', query) -%}
    {%- set moved = idr_spark_follow(prefix ~ 'moves', prefix ~ 'moved_') -%}
    {%- set query -%}
        select
            nodes.identifier_key,
            coalesce(moved.label_key, nodes.identifier_key) as component_key
        from {{ nodes }} as nodes
        left join {{ moved }} as moved on nodes.identifier_key = moved.node_key
    {%- endset -%}
    {%- do idr_spark_cache(name, query) -%}
    {{ return(name) }}
{%- endmacro %}

{#- Runs `round_macro` (idr_stitch_round or idr_contraction_round, step by step, on the previous
    round's rows) from `<prefix>0` while the
    newest round holds rows matching `pending`; returns the names of every round's cached rows. -#}
{% macro idr_spark_loop(prefix, round_macro, pending, max_rounds=200) -%}
    {%- set rounds = [prefix ~ '0'] -%}
    {%- set progress = {'done': false} -%}
    {%- for number in range(1, max_rounds + 1) -%}
        {%- if not progress.done -%}
            {%- set previous = rounds[-1] -%}
            {%- set left = run_query('select count(*) from ' ~ previous ~ ' where ' ~ pending).columns[0].values()[0] -%}
            {%- if left == 0 -%}
                {%- do progress.update({'done': true}) -%}
            {%- else -%}
                {%- if round_macro == 'idr_stitch_round' -%}
                    {%- set steps = idr_stitch_round_steps(previous) -%}
                {%- else -%}
                    {%- set steps = idr_contraction_round_steps(previous) -%}
                {%- endif -%}
                {%- do idr_spark_run_steps(steps, prefix ~ number, prefix ~ 'step_') -%}
                {%- do rounds.append(prefix ~ number) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not progress.done -%}
        {{ exceptions.raise_compiler_error(round_macro ~ " did not finish in " ~ max_rounds ~ " rounds") }}
    {%- endif -%}
    {{ return(rounds) }}
{%- endmacro %}

{#- Follows chains of moves (node_key -> label_key, each node moved at most once) to their ends by
    pointer jumping; caches and returns the name of the resolved mapping. -#}
{% macro idr_spark_follow(moves, prefix, max_rounds=64) -%}
    {%- set current = {'name': moves, 'done': false} -%}
    {%- for number in range(1, max_rounds + 1) -%}
        {%- if not current.done -%}
            {%- set chained = run_query(
                'select count(*) from ' ~ current.name ~ ' as moves inner join ' ~ current.name
                ~ ' as later on moves.label_key = later.node_key'
            ).columns[0].values()[0] -%}
            {%- if chained == 0 -%}
                {%- do current.update({'done': true}) -%}
            {%- else -%}
                {%- set query -%}
                    select moves.node_key, coalesce(later.label_key, moves.label_key) as label_key
                    from {{ current.name }} as moves
                    left join {{ current.name }} as later on moves.label_key = later.node_key
                {%- endset -%}
                {%- do idr_spark_cache(prefix ~ number, query) -%}
                {%- do current.update({'name': prefix ~ number}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(current.name) }}
{%- endmacro %}

{#- Names of the scratch tables of one model's stitching, in the target schema (each run replaces
    them). -#}
{% macro idr_spark_scratch_prefix() -%}
    {{ return(target.schema ~ '.idr_scratch_' ~ (model.name if model is defined else 'query') ~ '_') }}
{%- endmacro %}

{% macro idr_spark_stitch_placeholder() -%}
    {{ return('select cast(null as bigint) as identifier_key, cast(null as bigint) as component_key, '
        ~ 'cast(null as bigint) as connected_key') }}
{%- endmacro %}

{#- Runs the steps of a round (see idr_steps_as_query) one statement each: a stored step becomes a
    scratch table `<scratch_prefix><step>` and a temporary view of the step's name over it, another
    step (or a stored one that is `scan_only`: a filter or union of stored steps) a view of its query;
    the final step is stored under `name`. -#}
{% macro idr_spark_run_steps(steps, name, scratch_prefix) -%}
    {%- for step in steps[:-1] -%}
        {%- if step.materialized and not step.scan_only -%}
            {%- do idr_spark_cache(scratch_prefix ~ step.name, step.sql) -%}
            {%- do run_query('create or replace temporary view ' ~ step.name ~ ' as select * from ' ~ scratch_prefix ~ step.name) -%}
        {%- else -%}
            {%- do run_query('create or replace temporary view ' ~ step.name ~ ' as ' ~ step.sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do idr_spark_cache(name, steps[-1].sql) -%}
{%- endmacro %}

{#- Stores a query's rows under `name`, as a table of the target schema: a temporary view, even cached,
    keeps its whole lineage, which grows with every round that reads the one before. -#}
{% macro idr_spark_cache(name, query) -%}
    {%- do run_query('drop table if exists ' ~ name) -%}
    {%- call statement('idr_spark_scratch') -%}
        create table {{ name }} using parquet as {{ query }}
    {%- endcall -%}
{%- endmacro %}
