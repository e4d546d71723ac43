{#- A full refresh keeps the profile ids and the merge history (DuckDB). on-run-start of a
    `--full-refresh` run copies, before any model is rebuilt, every identifier's profile from
    int_identifiers_stitched and every row of profile_merges into two tables of the target schema; the
    rebuilt stitching then names its profiles as a night would (the oldest earlier profile whose oldest
    identifier a profile holds gives it its id), profile_merges keeps the rows copied, and on-run-end
    drops the copies. `idr forget` removes the forgotten people from both tables before it rebuilds. -#}

{#- One of the two copies, as a relation of the target schema. -#}
{% macro idr_carry_over_relation(name) -%}
    {{ return(api.Relation.create(
        database=target.database, schema=target.schema, identifier='idr_' ~ name ~ '_before_full_refresh'
    )) }}
{%- endmacro %}

{#- The relation of earlier profiles the stitching names its profiles after on a full refresh, or none
    (a first build, plain runs, engines that rebuild every run). -#}
{% macro idr_carried_profiles() -%}
    {{ return(adapter.dispatch('idr_carried_profiles', 'identity_resolution')()) }}
{%- endmacro %}

{% macro default__idr_carried_profiles() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__idr_carried_profiles() -%}
    {{ return(idr_carried_copy('profiles')) }}
{%- endmacro %}

{#- The merges profile_merges keeps through a full refresh, or none. -#}
{% macro idr_carried_merges() -%}
    {{ return(idr_carried_copy('merges') if idr_carried_profiles() is not none else none) }}
{%- endmacro %}

{#- One of the copies when this is a full refresh that made it, else none. Looked up in the catalog:
    dbt's cache of relations was filled before on-run-start made them. -#}
{% macro idr_carried_copy(name) -%}
    {%- set copy = idr_carry_over_relation(name) -%}
    {%- if not (execute and flags.FULL_REFRESH) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from information_schema.tables where table_catalog = "
        ~ idr_sql_string(copy.database) ~ " and table_schema = " ~ idr_sql_string(copy.schema)
        ~ " and table_name = " ~ idr_sql_string(copy.identifier)
    ) -%}
    {{ return(copy if found.columns[0].values()[0] | int > 0 else none) }}
{%- endmacro %}

{#- on-run-start: the copies, on a full refresh of a warehouse that was built before. -#}
{% macro idr_copy_profiles_before_full_refresh() -%}
    {{ return(adapter.dispatch('idr_copy_profiles_before_full_refresh', 'identity_resolution')()) }}
{%- endmacro %}

{% macro default__idr_copy_profiles_before_full_refresh() -%}
    select 1 as nothing_to_copy
{%- endmacro %}

{% macro duckdb__idr_copy_profiles_before_full_refresh() -%}
    {%- set stitched = adapter.get_relation(target.database, target.schema, 'int_identifiers_stitched') if execute -%}
    {#- profile_merges is in the marts file (its node's database) -#}
    {%- set merges_node = graph.nodes.values() | selectattr('name', 'equalto', 'profile_merges') | first if execute -%}
    {%- set merges = adapter.get_relation(merges_node.database, merges_node.schema, 'profile_merges')
        if execute and merges_node -%}
    {%- if flags.FULL_REFRESH and stitched is not none -%}
        create or replace table {{ idr_carry_over_relation('profiles') }} as
        select
            identifier_type,
            identifier_value,
            identifier_priority,
            first_seen_at,
            profile_id,
            previous_profile_id,
            was_profile_anchor,
            profile_changed_at
        from {{ stitched }};
        {%- if merges is not none %}
        create or replace table {{ idr_carry_over_relation('merges') }} as select * from {{ merges }};
        {%- endif %}
    {%- else -%}
        select 1 as nothing_to_copy
    {%- endif -%}
{%- endmacro %}

{#- on-run-end: the copies are dropped (a later full refresh copies again). -#}
{% macro idr_drop_profiles_copied_before_full_refresh() -%}
    {{ return(adapter.dispatch('idr_drop_profiles_copied_before_full_refresh', 'identity_resolution')()) }}
{%- endmacro %}

{% macro default__idr_drop_profiles_copied_before_full_refresh() -%}
    select 1 as nothing_to_drop
{%- endmacro %}

{% macro duckdb__idr_drop_profiles_copied_before_full_refresh() -%}
    {%- if flags.FULL_REFRESH -%}
        drop table if exists {{ idr_carry_over_relation('profiles') }};
        drop table if exists {{ idr_carry_over_relation('merges') }};
    {%- else -%}
        select 1 as nothing_to_drop
    {%- endif -%}
{%- endmacro %}
