{#- A SQL string literal for a configuration value (single quotes doubled). -#}
{% macro idr_sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- True when `expr` equals one of the configuration `values` (false or null when it is null),
    written so that the expression is computed once and, on DuckDB, not as `in (...)`: DuckDB plans a
    list of five values or more as a join, and a join stops it from numbering the rows of a scan as
    it reads them (the event_key of int_events_validated). -#}
{% macro idr_is_one_of(expr, values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}{%- do quoted.append(idr_sql_string(value)) -%}{%- endfor -%}
    {{ return(adapter.dispatch('idr_is_one_of', 'identity_resolution')(expr, quoted)) }}
{%- endmacro %}

{% macro default__idr_is_one_of(expr, quoted) -%}
    {{ '(' ~ expr ~ ' in (' ~ quoted | join(', ') ~ '))' if quoted else 'false' }}
{%- endmacro %}

{% macro duckdb__idr_is_one_of(expr, quoted) -%}
    {{ '(array_position([' ~ quoted | join(', ') ~ '], ' ~ expr ~ ') is not null)' if quoted else 'false' }}
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
