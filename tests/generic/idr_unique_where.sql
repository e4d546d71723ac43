{% test idr_unique_where(model, column_name, condition) %}
    select
        {{ column_name }},
        count(*) as row_count
    from {{ model }}
    where {{ condition }}
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}
