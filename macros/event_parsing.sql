{#- Parsing a Segment event's JSON text once: which fields the pipeline reads, the parse into a
    typed structure, and reading one field of it. -#}

{#- The fields of a Segment event the staging reads: the column each becomes, its path of object keys
    in the event and its kind (`text`: the value as text, strings unquoted, numbers and booleans as
    written, objects and arrays as JSON text; `json`: the same, read as a JSON document). The
    `is_identifier` fields must hold a string or a number (idr_non_scalar_field_kind). -#}
{% macro idr_segment_event_fields() -%}
    {{ return([
        {'column': 'message_id', 'path': ['messageId'], 'kind': 'text'},
        {'column': 'type_raw', 'path': ['type'], 'kind': 'text'},
        {'column': 'track_event', 'path': ['event'], 'kind': 'text'},
        {'column': 'call_name', 'path': ['name'], 'kind': 'text'},
        {'column': 'user_id', 'path': ['userId'], 'kind': 'json', 'is_identifier': true},
        {'column': 'anonymous_id', 'path': ['anonymousId'], 'kind': 'json', 'is_identifier': true},
        {'column': 'previous_id', 'path': ['previousId'], 'kind': 'json', 'is_identifier': true},
        {'column': 'group_id', 'path': ['groupId'], 'kind': 'json', 'is_identifier': true},
        {'column': 'traits', 'path': ['traits'], 'kind': 'json'},
        {'column': 'properties', 'path': ['properties'], 'kind': 'json'},
        {'column': 'context_traits', 'path': ['context', 'traits'], 'kind': 'json'},
        {'column': 'context_app', 'path': ['context', 'app'], 'kind': 'json'},
        {'column': 'context_device_id', 'path': ['context', 'device', 'id'], 'kind': 'text'},
        {'column': 'context_device_type', 'path': ['context', 'device', 'type'], 'kind': 'text'},
        {'column': 'context_device_advertising_id', 'path': ['context', 'device', 'advertisingId'], 'kind': 'text'},
        {'column': 'context_external_ids', 'path': ['context', 'externalIds'], 'kind': 'json'},
        {'column': 'timestamp_raw', 'path': ['timestamp'], 'kind': 'text'},
        {'column': 'original_timestamp_raw', 'path': ['originalTimestamp'], 'kind': 'text'},
        {'column': 'sent_at_raw', 'path': ['sentAt'], 'kind': 'text'},
        {'column': 'received_at_raw', 'path': ['receivedAt'], 'kind': 'text'},
    ]) }}
{%- endmacro %}

{#- The event fields as a tree of object keys: {key: kind, or {key: ...} for an object}. -#}
{% macro idr_segment_event_tree() -%}
    {%- set tree = {} -%}
    {%- for field in idr_segment_event_fields() -%}
        {%- set node = namespace(level=tree) -%}
        {%- for key in field['path'][:-1] -%}
            {%- if key not in node.level -%}{%- do node.level.update({key: {}}) -%}{%- endif -%}
            {%- set node.level = node.level[key] -%}
        {%- endfor -%}
        {%- do node.level.update({field['path'][-1]: field['kind']}) -%}
    {%- endfor -%}
    {{ return(tree) }}
{%- endmacro %}

{#- The event fields of a JSON text, parsed once into a structure of the fields' paths; null when the
    text is not a JSON object (never an error). Read a field with idr_segment_event_field. -#}
{% macro idr_parse_segment_event(text_expr) -%}
    {{ return(adapter.dispatch('idr_parse_segment_event', 'identity_resolution')(text_expr)) }}
{%- endmacro %}

{% macro default__idr_parse_segment_event(text_expr) -%}
    case when {{ idr_is_json_object(text_expr) }} then {{ idr_extracted_struct(text_expr, idr_segment_event_tree(), []) }} end
{%- endmacro %}

{% macro duckdb__idr_parse_segment_event(text_expr) -%}
    {#- json_transform parses the text once; a text that opens an object but is not valid JSON fails,
        and try() makes that row null. -#}
    case
        when starts_with(ltrim({{ text_expr }}, ' ' || chr(9) || chr(10) || chr(13)), '{')
            then try(json_transform({{ text_expr }}, '{{ tojson(idr_duckdb_json_structure(idr_segment_event_tree())) }}'))
    end
{%- endmacro %}

{#- The structure argument of DuckDB's json_transform for a tree of fields. -#}
{% macro idr_duckdb_json_structure(tree) -%}
    {%- set structure = {} -%}
    {%- for key, node in tree.items() -%}
        {%- if node is mapping -%}
            {%- do structure.update({key: idr_duckdb_json_structure(node)}) -%}
        {%- else -%}
            {%- do structure.update({key: 'JSON' if node == 'json' else 'VARCHAR'}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(structure) }}
{%- endmacro %}

{#- A named structure of the tree's fields, each extracted from the JSON text on its own (engines
    without a one-pass JSON-to-structure function). -#}
{% macro idr_extracted_struct(text_expr, tree, prefix) -%}
    named_struct(
        {%- for key, node in tree.items() %}
        '{{ key }}', {% if node is mapping %}{{ idr_extracted_struct(text_expr, node, prefix + [key]) }}{% else %}{{ idr_json_extract(text_expr, prefix + [key]) }}{% endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- One field of a parsed event (`field` as in idr_segment_event_fields) as text: JSON strings
    unquoted, everything else as written. -#}
{% macro idr_segment_event_field(event_expr, field) -%}
    {{ return(adapter.dispatch('idr_segment_event_field', 'identity_resolution')(event_expr, field)) }}
{%- endmacro %}

{% macro default__idr_segment_event_field(event_expr, field) -%}
    {{ event_expr }}{% for key in field['path'] %}.`{{ key }}`{% endfor %}
{%- endmacro %}

{% macro duckdb__idr_segment_event_field(event_expr, field) -%}
    {%- set value -%}{{ event_expr }}{% for key in field['path'] %}."{{ key }}"{% endfor %}{%- endset -%}
    {%- if field['kind'] == 'json' -%}
        case
            when starts_with(cast({{ value }} as varchar), '"') then json_extract_string({{ value }}, '$')
            else cast({{ value }} as varchar)
        end
    {%- else -%}
        {{ value }}
    {%- endif -%}
{%- endmacro %}

{#- What a field of a parsed event holds when it is not a string, a number or null: 'an object',
    'an array' or 'a boolean'; null otherwise. `text_expr` is the event's JSON text, `event_expr` its
    parse (idr_parse_segment_event); the field must be of kind `json`. -#}
{% macro idr_non_scalar_field_kind(text_expr, event_expr, field) -%}
    {{ return(adapter.dispatch('idr_non_scalar_field_kind', 'identity_resolution')(text_expr, event_expr, field)) }}
{%- endmacro %}

{% macro default__idr_non_scalar_field_kind(text_expr, event_expr, field) -%}
    {%- set schema -%}
        schema_of_variant(variant_get(try_parse_json({{ text_expr }}), '{{ idr_json_path(field['path']) }}', 'variant'))
    {%- endset -%}
    case
        when {{ schema }} like 'OBJECT%' then 'an object'
        when {{ schema }} like 'ARRAY%' then 'an array'
        when {{ schema }} = 'BOOLEAN' then 'a boolean'
    end
{%- endmacro %}

{% macro duckdb__idr_non_scalar_field_kind(text_expr, event_expr, field) -%}
    case json_type({{ event_expr }}{% for key in field['path'] %}."{{ key }}"{% endfor %})
        when 'OBJECT' then 'an object'
        when 'ARRAY' then 'an array'
        when 'BOOLEAN' then 'a boolean'
    end
{%- endmacro %}
