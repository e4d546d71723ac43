{#- An ISO-8601 timestamp text (any UTC offset; no offset means UTC) as a UTC timestamp without time
    zone; null when it cannot be parsed. -#}
{% macro idr_parse_timestamp(text_expr) -%}
    {{ return(adapter.dispatch('idr_parse_timestamp', 'identity_resolution')(text_expr)) }}
{%- endmacro %}

{% macro default__idr_parse_timestamp(text_expr) -%}
    cast(convert_timezone('UTC', try_to_timestamp_tz({{ text_expr }})) as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__idr_parse_timestamp(text_expr) -%}
    timezone('UTC', try_cast({{ text_expr }} as timestamptz))
{%- endmacro %}

{% macro spark__idr_parse_timestamp(text_expr) -%}
    {#- the session time zone is UTC (profiles.yml): an offset is applied, no offset means UTC -#}
    try_cast({{ text_expr }} as timestamp)
{%- endmacro %}

{#- True when the text matches the regular expression anywhere. -#}
{% macro idr_regex_matches(text_expr, pattern) -%}
    {{ return(adapter.dispatch('idr_regex_matches', 'identity_resolution')(text_expr, pattern)) }}
{%- endmacro %}

{% macro default__idr_regex_matches(text_expr, pattern) -%}
    regexp_like({{ text_expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__idr_regex_matches(text_expr, pattern) -%}
    regexp_matches({{ text_expr }}, '{{ pattern }}')
{%- endmacro %}

{#- Aggregate: the value of `value_expr` on the row that comes first when ordered by `order_exprs`
    (a list of expressions, ascending). -#}
{% macro idr_min_by(value_expr, order_exprs) -%}
    {{ return(adapter.dispatch('idr_min_by', 'identity_resolution')(value_expr, order_exprs)) }}
{%- endmacro %}

{% macro default__idr_min_by(value_expr, order_exprs) -%}
    min_by({{ value_expr }}, struct({{ order_exprs | join(', ') }}))
{%- endmacro %}

{% macro duckdb__idr_min_by(value_expr, order_exprs) -%}
    arg_min({{ value_expr }}, ({{ order_exprs | join(', ') }}))
{%- endmacro %}

{#- The smallest of the rows' (name, expression) `fields` compared in order, as one struct (an
    aggregate): its fields are read as `<alias>.<name>`. Cheaper on DuckDB than arg_min with a struct
    ordering, and the later fields come along. With `condition`, only over the rows where it holds
    (null when none does). -#}
{% macro idr_min_struct(fields, condition=none) -%}
    {{ return(adapter.dispatch('idr_min_struct', 'identity_resolution')(fields, condition)) }}
{%- endmacro %}

{% macro default__idr_min_struct(fields, condition=none) -%}
    {%- set packed -%}
        named_struct({% for name, expr in fields %}'{{ name }}', {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endset -%}
    min({{ idr_only_where(packed, condition) }})
{%- endmacro %}

{% macro duckdb__idr_min_struct(fields, condition=none) -%}
    {%- set packed -%}
        struct_pack({% for name, expr in fields %}{{ name }} := {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endset -%}
    min({{ idr_only_where(packed, condition) }})
{%- endmacro %}

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
