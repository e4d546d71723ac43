{#- A 64-bit hash of one or more expressions, equal for equal values (nulls included): a cheap
    first pass for tests that look for repeated values. -#}
{% macro idr_hash(expressions) -%}
    {{ return(adapter.dispatch('idr_hash', 'identity_resolution')(expressions)) }}
{%- endmacro %}

{% macro default__idr_hash(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__idr_hash(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}

{#- The rows of `relation` whose `columns` repeat, with their row_count: a group by of the 64-bit
    hashes of the values first, then the values of only the rows whose hash repeats (a hash collision
    compares values and finds nothing). The body of the project's uniqueness tests. -#}
{% macro idr_repeated_values(relation, columns, condition='1 = 1') -%}
    with repeated_hashes as (
        select {{ idr_hash(columns) }} as row_hash
        from {{ relation }}
        where {{ condition }}
        group by {{ idr_hash(columns) }}
        having count(*) > 1
    )

    select
        {{ columns | join(', ') }},
        count(*) as row_count
    from {{ relation }}
    where
        {{ condition }}
        and {{ idr_hash(columns) }} in (select repeated_hashes.row_hash from repeated_hashes)
    group by {{ columns | join(', ') }}
    having count(*) > 1
{%- endmacro %}

{#- dbt's unique test, through the same two passes. -#}
{% macro default__test_unique(model, column_name) -%}
    {{ idr_repeated_values(model, [column_name], column_name ~ ' is not null') }}
{%- endmacro %}
