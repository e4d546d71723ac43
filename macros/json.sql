{#- JSON helpers. Every engine spells JSON access differently, so each helper dispatches. -#}

{#- The value at `path` (a list of object keys) of a JSON text: strings unquoted, objects and arrays
    as JSON text, JSON null and missing keys as SQL null. -#}
{% macro idr_json_extract(json_expr, path) -%}
    {{ return(adapter.dispatch('idr_json_extract', 'identity_resolution')(json_expr, path)) }}
{%- endmacro %}

{% macro default__idr_json_extract(json_expr, path) -%}
    json_extract_path_text({{ json_expr }}{% for key in path %}, '{{ key }}'{% endfor %})
{%- endmacro %}

{% macro duckdb__idr_json_extract(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '{{ idr_json_path(path) }}')
{%- endmacro %}

{% macro spark__idr_json_extract(json_expr, path) -%}
    {%- if path -%}
        get_json_object({{ json_expr }}, '{{ idr_json_path(path) }}')
    {%- else -%}
        {#- get_json_object gives the text 'null' for a JSON null at the root -#}
        case when not is_variant_null(try_parse_json({{ json_expr }})) then get_json_object({{ json_expr }}, '$') end
    {%- endif -%}
{%- endmacro %}

{% macro idr_json_path(path) -%}
    ${% for key in path %}.{{ key }}{% endfor %}
{%- endmacro %}

{#- True when the text is valid JSON holding an object, false otherwise (never an error). -#}
{% macro idr_is_json_object(text_expr) -%}
    {{ return(adapter.dispatch('idr_is_json_object', 'identity_resolution')(text_expr)) }}
{%- endmacro %}

{% macro default__idr_is_json_object(text_expr) -%}
    coalesce(is_object(try_parse_json({{ text_expr }})), false)
{%- endmacro %}

{% macro duckdb__idr_is_json_object(text_expr) -%}
    coalesce(case when json_valid({{ text_expr }}) then json_type({{ text_expr }}) = 'OBJECT' end, false)
{%- endmacro %}

{% macro spark__idr_is_json_object(text_expr) -%}
    coalesce(schema_of_variant(try_parse_json({{ text_expr }})) like 'OBJECT%', false)
{%- endmacro %}

{#- A JSON object text built from (key, expression) pairs; null when there are no pairs. -#}
{% macro idr_json_object(pairs) -%}
    {{ return(adapter.dispatch('idr_json_object', 'identity_resolution')(pairs)) }}
{%- endmacro %}

{% macro default__idr_json_object(pairs) -%}
    {%- if pairs | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        to_json(object_construct_keep_null({% for key, expr in pairs %}'{{ key }}', {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %}))
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__idr_json_object(pairs) -%}
    {%- if pairs | length == 0 -%}
        cast(null as varchar)
    {%- else -%}
        cast(json_object({% for key, expr in pairs %}'{{ key }}', {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %}) as varchar)
    {%- endif -%}
{%- endmacro %}

{% macro spark__idr_json_object(pairs) -%}
    {%- if pairs | length == 0 -%}
        cast(null as string)
    {%- else -%}
        to_json(
            named_struct({% for key, expr in pairs %}'{{ key }}', {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %}),
            map('ignoreNullFields', 'false')
        )
    {%- endif -%}
{%- endmacro %}

{#- Aggregate: a JSON object text from key and value columns (keys must not be null), keys in order. -#}
{% macro idr_json_group_object(key_expr, value_expr) -%}
    {{ return(adapter.dispatch('idr_json_group_object', 'identity_resolution')(key_expr, value_expr)) }}
{%- endmacro %}

{% macro default__idr_json_group_object(key_expr, value_expr) -%}
    to_json(object_agg({{ key_expr }}, {{ value_expr }}))
{%- endmacro %}

{% macro duckdb__idr_json_group_object(key_expr, value_expr) -%}
    cast(to_json(map(list({{ key_expr }} order by {{ key_expr }}), list({{ value_expr }} order by {{ key_expr }}))) as varchar)
{%- endmacro %}

{% macro spark__idr_json_group_object(key_expr, value_expr) -%}
    to_json(map_from_entries(array_sort(collect_list(struct({{ key_expr }}, {{ value_expr }})))))
{%- endmacro %}

{#- One row per entry of a JSON object or array column: the given columns of `relation`, then
    `entry_key` (the object key, or the array position from 0) and `entry_json` (the entry's JSON text).
    Rows whose column is null, or not an object/array, give no entries. -#}
{% macro idr_json_entries(relation, columns, json_column) -%}
    {{ return(adapter.dispatch('idr_json_entries', 'identity_resolution')(relation, columns, json_column)) }}
{%- endmacro %}

{% macro default__idr_json_entries(relation, columns, json_column) -%}
    select
        {% for column in columns %}source_rows.{{ column }},
        {% endfor %}entries.key as entry_key,
        to_json(entries.value) as entry_json
    from {{ relation }} as source_rows,
        lateral flatten(input => try_parse_json(source_rows.{{ json_column }})) as entries
{%- endmacro %}

{% macro duckdb__idr_json_entries(relation, columns, json_column) -%}
    select
        {% for column in columns %}source_rows.{{ column }},
        {% endfor %}entries.key as entry_key,
        cast(entries.value as varchar) as entry_json
    from {{ relation }} as source_rows,
        json_each(source_rows.{{ json_column }}) as entries
    where json_type(source_rows.{{ json_column }}) in ('OBJECT', 'ARRAY')
{%- endmacro %}

{% macro spark__idr_json_entries(relation, columns, json_column) -%}
    select
        {% for column in columns %}source_rows.{{ column }},
        {% endfor %}coalesce(entries.key, cast(entries.pos as string)) as entry_key,
        to_json(entries.value) as entry_json
    from {{ relation }} as source_rows,
        lateral variant_explode(try_parse_json(source_rows.{{ json_column }})) as entries
{%- endmacro %}
