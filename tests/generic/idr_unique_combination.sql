{% test idr_unique_combination(model, columns) %}
    {{ idr_repeated_values(model, columns) }}
{% endtest %}
