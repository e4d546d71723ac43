{#- The limit rule of merge protection, for a count of identifiers of one type first seen in one limit
    window: true when the count is more than the type's limit allows. -#}
{% macro idr_breaks_limit(count_expr, limit_expr) -%}
    ({{ count_expr }} > {{ limit_expr }})
{%- endmacro %}
