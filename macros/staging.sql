{#- The columns every staging model returns, in order: the common shape of one raw event. -#}
{% macro idr_staged_event_columns() -%}
    {{ return([
        'event_source', 'source_name', 'source_row', 'load_id', 'loaded_at', 'raw_text',
        'source_rejection_reason', 'source_rejection_detail',
        'message_id', 'event_type', 'event_name', 'user_id', 'anonymous_id', 'previous_id', 'group_id',
        'traits', 'context_traits', 'properties',
        'context_app_name', 'context_device_id', 'context_device_type', 'context_device_advertising_id',
        'context_external_ids',
        'timestamp_raw', 'original_timestamp_raw', 'sent_at_raw', 'received_at_raw',
        'timestamp_at', 'original_timestamp_at', 'sent_at', 'received_at',
    ]) }}
{%- endmacro %}

{#- A Segment warehouse table: the bundled seed of that name, or the table in your Segment schema. -#}
{% macro segment_relation(table_name) -%}
    {%- if var('idr_segment_tables') == 'source' -%}
        {{ return(source('segment', table_name)) }}
    {%- else -%}
        {{ return(ref(table_name)) }}
    {%- endif -%}
{%- endmacro %}

{#- `select * from relation`, or an empty result with the given columns ({name: type}) when the
    relation does not exist yet (the landing table before the first load). With `row_number_column`,
    also a bigint column of that name numbering the rows (idr_table_row_number, `row_order` where
    the engine has no row id). -#}
{% macro idr_relation_or_empty(relation, columns, row_number_column=none, row_order=none) -%}
    {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) if execute else relation -%}
    {%- if existing is none -%}
        select
            {%- for name, data_type in columns.items() %}
            cast(null as {{ data_type }}) as {{ name }}{% if not loop.last or row_number_column %},{% endif %}
            {%- endfor %}
            {%- if row_number_column %}
            cast(null as {{ dbt.type_bigint() }}) as {{ row_number_column }}
            {%- endif %}
        where 1 = 0
    {%- elif row_number_column -%}
        select *, {{ idr_table_row_number(row_order) }} as {{ row_number_column }} from {{ relation }}
    {%- else -%}
        select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- A positive number for each row of the table a select reads directly, unique in the table: DuckDB's
    rowid plus one (read with the rows at no cost; stable while no row is deleted), elsewhere the row's
    position in the order of the columns `order_by`. -#}
{% macro idr_table_row_number(order_by) -%}
    {{ return(adapter.dispatch('idr_table_row_number', 'identity_resolution')(order_by)) }}
{%- endmacro %}

{% macro default__idr_table_row_number(order_by) -%}
    row_number() over (order by {{ order_by | join(', ') }})
{%- endmacro %}

{% macro duckdb__idr_table_row_number(order_by) -%}
    rowid + 1
{%- endmacro %}

{#- Stages one Segment warehouse table (identifies, tracks, pages, screens, aliases, groups) into the
    common event shape. Segment flattens traits and properties into columns of their own; every
    column that is not a standard Segment column becomes a key of `traits` (identify, group) or
    `properties` (track, page, screen), and `context_traits_*` columns become `context_traits`. -#}
{% macro stage_segment_table(table_name, event_type) -%}
    {%- set relation = segment_relation(table_name) -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do present.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set standard = [
        'id', 'anonymous_id', 'user_id', 'previous_id', 'group_id',
        'timestamp', 'original_timestamp', 'sent_at', 'received_at', 'uuid', 'uuid_ts', 'loaded_at',
    ] + {'track': ['event', 'event_text'], 'page': ['name'], 'screen': ['name']}.get(event_type, []) -%}
    {%- set extra_pairs = [] -%}
    {%- set context_trait_pairs = [] -%}
    {%- for name in present -%}
        {%- if name.startswith('context_traits_') -%}
            {%- do context_trait_pairs.append((name[15:], adapter.quote(name))) -%}
        {%- elif name not in standard and not name.startswith('context_') -%}
            {%- do extra_pairs.append((name, adapter.quote(name))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set is_trait_call = event_type in ['identify', 'group'] -%}

    with source as (
        select * from {{ relation }}
    ),

    renamed as (
        select
            'segment' as event_source,
            '{{ table_name }}' as source_name,
            cast(null as {{ dbt.type_bigint() }}) as source_row,
            cast(null as {{ dbt.type_string() }}) as load_id,
            cast(null as {{ dbt.type_timestamp() }}) as loaded_at,
            cast(null as {{ dbt.type_string() }}) as raw_text,
            cast(null as {{ dbt.type_string() }}) as source_rejection_reason,
            cast(null as {{ dbt.type_string() }}) as source_rejection_detail,
            {{ idr_segment_column(present, 'id') }} as message_id,
            '{{ event_type }}' as event_type,
            {% if event_type == 'track' -%}
            {{ idr_segment_column(present, 'event') }}
            {%- elif event_type in ['page', 'screen'] -%}
            {{ idr_segment_column(present, 'name') }}
            {%- else -%}
            cast(null as {{ dbt.type_string() }})
            {%- endif %} as event_name,
            {{ idr_segment_column(present, 'user_id') }} as user_id,
            {{ idr_segment_column(present, 'anonymous_id') }} as anonymous_id,
            {{ idr_segment_column(present, 'previous_id') }} as previous_id,
            {{ idr_segment_column(present, 'group_id') }} as group_id,
            {{ idr_json_object(extra_pairs if is_trait_call else []) }} as traits,
            {{ idr_json_object(context_trait_pairs) }} as context_traits,
            {{ idr_json_object([] if is_trait_call else extra_pairs) }} as properties,
            {{ idr_segment_column(present, 'context_app_name') }} as context_app_name,
            {{ idr_segment_column(present, 'context_device_id') }} as context_device_id,
            {{ idr_segment_column(present, 'context_device_type') }} as context_device_type,
            {{ idr_segment_column(present, 'context_device_advertising_id') }} as context_device_advertising_id,
            cast(null as {{ dbt.type_string() }}) as context_external_ids,
            {{ idr_segment_column(present, 'timestamp') }} as timestamp_raw,
            {{ idr_segment_column(present, 'original_timestamp') }} as original_timestamp_raw,
            {{ idr_segment_column(present, 'sent_at') }} as sent_at_raw,
            {{ idr_segment_column(present, 'received_at') }} as received_at_raw
        from source
    ),

    parsed as (
        select
            *,
            {{ idr_parse_timestamp('timestamp_raw') }} as timestamp_at,
            {{ idr_parse_timestamp('original_timestamp_raw') }} as original_timestamp_at,
            {{ idr_parse_timestamp('sent_at_raw') }} as sent_at,
            {{ idr_parse_timestamp('received_at_raw') }} as received_at
        from renamed
    )

    select * from parsed
{%- endmacro %}

{#- A column of a Segment table as text, or null when the table does not have it. -#}
{% macro idr_segment_column(present, name) -%}
    {%- if name in present -%}
        cast({{ adapter.quote(name) }} as {{ dbt.type_string() }})
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- For the incremental int_events_validated: the landing loads it has not processed yet, as a list
    of SQL literals (`null` when there is none). Literals let the filter reach the landing table
    through the staging view, so only the new rows are parsed; a subquery would not. -#}
{% macro idr_unprocessed_load_ids() -%}
    {%- set landing = source('landing', 'raw_events') -%}
    {%- set new_loads = [] -%}
    {%- if execute and adapter.get_relation(landing.database, landing.schema, landing.identifier) is not none -%}
        {%- set query -%}
            select distinct load_id from {{ landing }}
            where load_id not in (select distinct load_id from {{ this }} where load_id is not null)
            order by load_id
        {%- endset -%}
        {%- for load_id in run_query(query).columns[0].values() -%}
            {%- do new_loads.append(idr_sql_string(load_id)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ new_loads | join(', ') if new_loads else 'null' }}
{%- endmacro %}
