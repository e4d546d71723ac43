{#- A SQL string literal for a configuration value (single quotes doubled). -#}
{% macro idr_sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- The priority of an identifier type (1 = most trusted), from the idr_identifier_types var; types
    that are not configured get idr_default_identifier_priority. -#}
{% macro idr_identifier_priority(type_expr) -%}
    case {{ type_expr }}
        {%- for identifier_type, settings in var('idr_identifier_types').items() %}
        when {{ idr_sql_string(identifier_type) }} then {{ settings.get('priority', var('idr_default_identifier_priority')) | int }}
        {%- endfor %}
        else {{ var('idr_default_identifier_priority') | int }}
    end
{%- endmacro %}

{#- One select per configured identifier source (var idr_identifier_sources) over `relation`, each
    returning message_id, occurred_at, identifier_type, raw_value and identifier_source. -#}
{% macro idr_identifier_source_selects(relation) -%}
    {%- set selects = [] -%}
    {%- for source in var('idr_identifier_sources') -%}
        {%- set column = source['column'] -%}
        {%- if source.get('path') -%}
            {%- set value_expr = idr_json_extract(column, source['path'].split('.')) -%}
            {%- set label = column ~ '.' ~ source['path'] -%}
        {%- else -%}
            {%- set value_expr = column -%}
            {%- set label = column -%}
        {%- endif -%}
        {%- set conditions = [value_expr ~ ' is not null'] -%}
        {%- if source.get('event_types') -%}
            {%- set quoted = [] -%}
            {%- for value in source['event_types'] -%}{%- do quoted.append(idr_sql_string(value | lower)) -%}{%- endfor -%}
            {%- do conditions.append('event_type in (' ~ quoted | join(', ') ~ ')') -%}
        {%- endif -%}
        {%- if source.get('device_types') -%}
            {%- set quoted = [] -%}
            {%- for value in source['device_types'] -%}{%- do quoted.append(idr_sql_string(value | lower)) -%}{%- endfor -%}
            {%- do conditions.append('lower(trim(context_device_type)) in (' ~ quoted | join(', ') ~ ')') -%}
        {%- endif -%}
        {%- do selects.append(
            'select message_id, occurred_at, ' ~ idr_sql_string(source['type']) ~ ' as identifier_type, '
            ~ value_expr ~ ' as raw_value, ' ~ idr_sql_string(label) ~ ' as identifier_source from ' ~ relation
            ~ ' where ' ~ conditions | join(' and ')
        ) -%}
    {%- endfor -%}
    {{ return(selects) }}
{%- endmacro %}

{#- True when a normalized identifier value is a placeholder that must never identify anybody. -#}
{% macro idr_is_blocked_value(value_expr) -%}
    {%- set blocked = [] -%}
    {%- for value in var('idr_blocked_values') -%}{%- do blocked.append(idr_sql_string(value | lower)) -%}{%- endfor -%}
    (
        {{ idr_regex_matches(value_expr, var('idr_blocked_value_pattern')) }}
        {%- if blocked %}
        or lower({{ value_expr }}) in ({{ blocked | join(', ') }})
        {%- endif %}
    )
{%- endmacro %}
