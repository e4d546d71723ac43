{#- An ISO-8601 time text as a UTC timestamp without time zone; null when it is not one that can
    be: a date and a time of day (seconds and their fraction optional), then `Z`, an offset within
    ±18:00 or nothing (UTC), at or after var idr_earliest_event_time and before var
    idr_latest_event_time. Words DuckDB reads as times (`infinity`, `epoch`) are not times here. -#}
{% macro idr_parse_timestamp(text_expr) -%}
    {%- set iso_time = '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?'
        ~ '([Zz]|[+-](0[0-9]|1[0-7])(:?[0-5][0-9])?|[+-]18(:?00)?)?$' -%}
    {%- set parsed = adapter.dispatch('idr_parse_timestamp', 'identity_resolution')(
        'case when ' ~ idr_regex_matches(text_expr, iso_time) ~ ' then ' ~ text_expr ~ ' end'
    ) -%}
    case
        when {{ parsed }} >= cast('{{ var('idr_earliest_event_time') }}' as {{ dbt.type_timestamp() }})
            and {{ parsed }} < cast('{{ var('idr_latest_event_time') }}' as {{ dbt.type_timestamp() }})
            then {{ parsed }}
    end
{%- endmacro %}

{#- The parse of a text already known to be an ISO-8601 time (idr_parse_timestamp checks it). -#}
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

{#- When an event happened by a client's clock corrected as Segment corrects it: the time it was
    received, less the time the message spent between being sent and being received by the clock that
    stamped both `original_expr` and `sent_expr` (receivedAt - (sentAt - originalTimestamp)). -#}
{% macro idr_clock_corrected_time(received_expr, sent_expr, original_expr) -%}
    {{ return(adapter.dispatch('idr_clock_corrected_time', 'identity_resolution')(received_expr, sent_expr, original_expr)) }}
{%- endmacro %}

{% macro default__idr_clock_corrected_time(received_expr, sent_expr, original_expr) -%}
    {{ received_expr }} + ({{ original_expr }} - {{ sent_expr }})
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
