{% test idr_unique_where(model, column_name, condition) %}
    {{ idr_repeated_values(model, [column_name], condition) }}
{% endtest %}
