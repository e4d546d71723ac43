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
