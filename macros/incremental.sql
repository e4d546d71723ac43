{#- The materialization of the incremental models: incremental where the engine can delete and
    insert rows by key (DuckDB), a table rebuilt on every run elsewhere (Spark's parquet tables). -#}
{% macro idr_incremental() -%}
    {{ return(adapter.dispatch('idr_incremental', 'identity_resolution')()) }}
{%- endmacro %}

{% macro default__idr_incremental() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__idr_incremental() -%}
    {{ return('table') }}
{%- endmacro %}

{#- Placed after `as` in a CTE that a query reads more than once and that is cheaper to store than to
    compute again (`materialized` in DuckDB; nothing elsewhere). -#}
{% macro idr_materialized() -%}
    {{ return(adapter.dispatch('idr_materialized', 'identity_resolution')()) }}
{%- endmacro %}

{% macro default__idr_materialized() -%}
{%- endmacro %}

{% macro duckdb__idr_materialized() -%}
    materialized
{%- endmacro %}

{#- Placed after `as` in a CTE that a query reads more than once but that is cheaper to read again
    than to store: a filter over a table, whose every reader needs other columns (DuckDB stores a CTE
    read twice unless told `not materialized`, holding all of its rows in memory; nothing elsewhere). -#}
{% macro idr_not_materialized() -%}
    {{ return(adapter.dispatch('idr_not_materialized', 'identity_resolution')()) }}
{%- endmacro %}

{% macro default__idr_not_materialized() -%}
{%- endmacro %}

{% macro duckdb__idr_not_materialized() -%}
    not materialized
{%- endmacro %}

{#- The batch marker every incremental model writes on the rows a run adds or rewrites: the run's
    start time. -#}
{% macro idr_batch_marker() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The timestamp a one-value query returns: at run time read first and written as a literal (so that
    the engine can skip the blocks of older rows through zone maps / min-max statistics), at parse time
    the query itself. -#}
{% macro idr_queried_timestamp(query) -%}
    {%- if execute -%}
        {%- set value = run_query(query).columns[0].values()[0] -%}
        cast('{{ value.strftime("%Y-%m-%d %H:%M:%S.%f") if value is not string else value }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        ({{ query }})
    {%- endif -%}
{%- endmacro %}

{#- The largest value of an integer `column` of `relation` (0 when it has no rows or does not exist
    yet, as when the project is only compiled), read at run time and written as a literal: a scalar
    subquery would be a join, which stops DuckDB from numbering the rows of a scan as it reads them. -#}
{% macro idr_largest_value(relation, column) -%}
    {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
        {%- set value = run_query('select coalesce(max(' ~ column ~ '), 0) from ' ~ relation).columns[0].values()[0] -%}
        {{ value | int }}
    {%- else -%}
        0
    {%- endif -%}
{%- endmacro %}

{#- A predicate for incremental models: the upstream rows (column batch_started_at, or the run-time
    column named by `column`) written after the calling model last ran — by this run, or by a run that
    was killed before it reached this model — and every row on a full build. -#}
{% macro idr_unprocessed(relation_alias=none, column='batch_started_at') -%}
    {%- if is_incremental() -%}
        {{ relation_alias ~ '.' if relation_alias else '' }}{{ column }} > {{ idr_watermark() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The latest batch_started_at of the calling incremental model, as a literal at run time. -#}
{% macro idr_watermark() -%}
    {%- set query -%}
        select coalesce(max(processed.batch_started_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }} as processed
    {%- endset -%}
    {{- idr_queried_timestamp(query) -}}
{%- endmacro %}

{#- For incremental aggregates of sightings: first_seen_at, last_seen_at and event_count of a batch's
    rows combined with the earlier row (left-joined as `previous_alias`, possibly missing). -#}
{% macro idr_merged_sightings(batch_alias, previous_alias) -%}
    least({{ batch_alias }}.first_seen_at, coalesce({{ previous_alias }}.first_seen_at, {{ batch_alias }}.first_seen_at))
            as first_seen_at,
        greatest({{ batch_alias }}.last_seen_at, coalesce({{ previous_alias }}.last_seen_at, {{ batch_alias }}.last_seen_at))
            as last_seen_at,
        {{ batch_alias }}.event_count + coalesce({{ previous_alias }}.event_count, 0) as event_count
{%- endmacro %}

{#- A post-hook for incremental models replaced by groups (delete+insert on a group key): delete the
    rows of the model that no longer match a row of `reference` on the (model column, reference column)
    pairs, such as the rows of a group whose new version has no rows at all. -#}
{% macro idr_delete_orphaned_rows(reference, column_pairs) -%}
    {%- if idr_incremental() == 'incremental' %}
    delete from {{ this }} as orphaned
    where not exists (
        select 1
        from {{ reference }} as kept
        where
            {%- for own_column, reference_column in column_pairs %}
            {{ 'and ' if not loop.first }}kept.{{ reference_column }} = orphaned.{{ own_column }}
            {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}
