{#- Data tests on incremental models check only the rows written since the test last passed.

    Every data test has `where: "__idr_untested__"` (dbt_project.yml). On an incremental model it
    becomes "the rows whose batch_started_at is later than the start of the last run in which this
    test passed"; on any other model it checks every row. A test that checks across the rows of a
    group (say, unique timeline positions per profile) sets `where: "__idr_untested_by:<column>__"`:
    every row of the <column> values that have an untested row. Any other `where` is kept as written
    ("1 = 1" checks every row). The var idr_test_scope = all checks every row.

    The watermarks live in the table idr_test_watermarks of the target schema: on-run-start creates
    it, on-run-end records the tests that passed. A run that fails or is killed records nothing, so
    the next run checks its rows again. -#}

{#- dbt wraps a tested relation in this macro to apply the `where` config; this version turns the two
    placeholders above into predicates and leaves any other `where` as it is. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and where.startswith('__idr_untested') and (
        not idr_tests_an_incremental_model() or not idr_has_tested_rows(relation)
    ) -%}
        {%- set where = none -%}
    {%- elif where == '__idr_untested__' -%}
        {%- set where = idr_untested_rows() -%}
    {%- elif where and where.startswith('__idr_untested_by:') and where.endswith('__') -%}
        {%- set group_column = where[18:-2] -%}
        {%- set where -%}
            {{ group_column }} in (select {{ group_column }} from {{ relation }} where {{ idr_untested_rows() }})
        {%- endset -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Whether the calling data test is attached to an incremental model. -#}
{% macro idr_tests_an_incremental_model() -%}
    {%- set attached_node = model.get('attached_node') -%}
    {%- set tested = graph.nodes.get(attached_node) if attached_node else none -%}
    {{- return(tested is not none and tested.config.materialized == 'incremental') -}}
{%- endmacro %}

{#- The rows of the tested model written after the start of the last run in which the calling test
    passed (all rows when idr_test_scope is `all`). -#}
{% macro idr_untested_rows() -%}
    {%- if var('idr_test_scope', 'untested') == 'all' -%}
        1 = 1
    {%- else -%}
        batch_started_at > {{ idr_queried_timestamp(idr_test_watermark_query()) }}
    {%- endif -%}
{%- endmacro %}

{#- The query of the calling test's watermark: the start of the last run in which it passed (1900-01-01
    when it never did). -#}
{% macro idr_test_watermark_query() -%}
    select coalesce(max(watermarks.tested_through_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
    from {{ idr_test_watermarks() }} as watermarks
    where watermarks.test_id = {{ idr_sql_string(model.unique_id) }}
{%- endmacro %}

{#- Whether some rows of the tested relation were written before the start of the last run in which
    the calling test passed (false after a full refresh, and at parse time): when none were, the test
    checks every row without a filter. -#}
{% macro idr_has_tested_rows(relation) -%}
    {%- if not execute or var('idr_test_scope', 'untested') == 'all' -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set query -%}
        select coalesce(min(tested.batch_started_at) <= ({{ idr_test_watermark_query() }}), false)
        from {{ relation }} as tested
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0] == true) -}}
{%- endmacro %}

{% macro idr_test_watermarks() -%}
    {{- return(api.Relation.create(
        database=target.get('database'), schema=target.schema, identifier='idr_test_watermarks'
    )) -}}
{%- endmacro %}

{#- on-run-start (two hooks: some engines run one statement at a time): the watermark table. -#}
{% macro idr_create_test_watermarks_schema() -%}
    create schema if not exists {{ idr_test_watermarks().without_identifier() }}
{%- endmacro %}

{% macro idr_create_test_watermarks() -%}
    create table if not exists {{ idr_test_watermarks() }} (
        test_id {{ dbt.type_string() }},
        tested_through_at {{ dbt.type_timestamp() }}
    )
{%- endmacro %}

{#- on-run-end: every data test that passed has checked the rows written up to this run's start.
    Not on Spark, where every model is rebuilt on every run and every test checks every row. -#}
{% macro idr_record_passed_tests(results) -%}
    {{ return(adapter.dispatch('idr_record_passed_tests', 'identity_resolution')(results)) }}
{%- endmacro %}

{% macro spark__idr_record_passed_tests(results) -%}
    select 1 as nothing_to_record
{%- endmacro %}

{% macro default__idr_record_passed_tests(results) -%}
    {%- set passed = [] -%}
    {%- for result in results -%}
        {%- if result.node.resource_type == 'test' and result.status == 'pass' -%}
            {%- do passed.append(idr_sql_string(result.node.unique_id)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if passed -%}
        delete from {{ idr_test_watermarks() }} where test_id in ({{ passed | join(', ') }});
        insert into {{ idr_test_watermarks() }} (test_id, tested_through_at)
        select test_id, {{ idr_batch_marker() }}
        from (
            {%- for test_id in passed %}
            select {{ test_id }} as test_id{{ ' union all' if not loop.last }}
            {%- endfor %}
        ) as passed_tests
    {%- else -%}
        select 1 as nothing_to_record
    {%- endif -%}
{%- endmacro %}
