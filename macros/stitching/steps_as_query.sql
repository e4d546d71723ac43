{#- A query from steps (a list of {name, sql, materialized}; the last step, without a name, is the
    final select): the steps before it as CTEs, stored (`materialized`) where the step says so. -#}
{% macro idr_steps_as_query(steps) -%}
    with
    {%- for step in steps[:-1] %}
    {{ step.name }} as {{ idr_materialized() if step.materialized }} (
        {{ step.sql | indent(8) }}
    ){{ ',' if not loop.last }}
    {%- endfor %}

    {{ steps[-1].sql }}
{%- endmacro %}

{#- One step of a query of idr_steps_as_query, written where it is named:
    `{% call idr_step(steps, 'live_links', materialized=true) %} select ... {% endcall %}` appends the
    step (the name none: the final select) to the list `steps`. `scan_only`: the step only filters,
    projects or unions steps that are stored (no join, no aggregate), so reading it again costs a scan:
    Spark, which stores each materialized step as a table of its own with one statement, reads such a
    step as a view instead (DuckDB keeps `materialized` in its CTEs). -#}
{% macro idr_step(steps, name, materialized=false, scan_only=false) -%}
    {%- do steps.append({'name': name, 'sql': caller(), 'materialized': materialized, 'scan_only': scan_only}) -%}
{%- endmacro %}
