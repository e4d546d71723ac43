{#- The most trusted of a group's identifiers in integers only: priority and key packed into one bigint
    (priority * key_span + key), so that one min finds the identifier of the best (lowest) priority with
    the smallest key, or, with the key reversed, the largest. When the two differ, several identifiers
    share the best priority and the type and value decide (idr_min_struct). With a condition, only the
    rows where it holds count (null when none does). -#}
{% macro idr_packed_min_key(priority, key, key_span, condition=none) -%}
    min({{ idr_only_where(priority ~ ' * ' ~ key_span ~ ' + ' ~ key, condition) }}) % {{ key_span }}
{%- endmacro %}

{% macro idr_packed_max_key(priority, key, key_span, condition=none) -%}
    {{ key_span - 1 }} - min(
        {{- idr_only_where(priority ~ ' * ' ~ key_span ~ ' + ' ~ (key_span - 1) ~ ' - ' ~ key, condition) -}}
    ) % {{ key_span }}
{%- endmacro %}

{#- `expression`, or, with a condition, the expression where it holds and null elsewhere (the argument
    of an aggregate that counts only those rows). -#}
{% macro idr_only_where(expression, condition=none) -%}
    {%- if condition -%}case when {{ condition }} then {{ expression }} end{%- else -%}{{ expression }}{%- endif -%}
{%- endmacro %}
