{#- One row per line (or JSON-array element) the driver loaded: the Segment-spec JSON parsed into the
    common event shape. Rows that are not a JSON object, or whose userId, anonymousId, previousId or
    groupId is not a string or a number, keep their raw text and a rejection reason. -#}
with source as (
    {{ idr_relation_or_empty(source('landing', 'raw_events'), {
        'load_id': dbt.type_string(),
        'source_file': dbt.type_string(),
        'source_line': dbt.type_bigint(),
        'raw_text': dbt.type_string(),
        'load_error': dbt.type_string(),
        'load_error_detail': dbt.type_string(),
        'loaded_at': dbt.type_timestamp(),
    }, row_number_column='landing_row_number', row_order=['load_id', 'source_file', 'source_line']) }}
),

parsed as (
    -- the JSON text is parsed once, into the fields the pipeline reads
    select
        *,
        case when load_error is null then {{ idr_parse_segment_event('raw_text') }} end as parsed_event
    from source
),

typed as (
    -- the first identifier field that holds an object, an array or a boolean, said in words
    select
        *,
        coalesce(
            {%- for field in idr_segment_event_fields() if field.get('is_identifier') %}
            '{{ field['path'] | join('.') }} must be a string or a number, not '
            || {{ idr_non_scalar_field_kind('raw_text', 'parsed_event', field) }},
            {%- endfor %}
            null
        ) as identifier_problem
    from parsed
),

extracted as (
    select
        'landing' as event_source,
        parsed.source_file as source_name,
        parsed.source_line as source_row,
        parsed.landing_row_number,
        parsed.load_id,
        parsed.loaded_at,
        parsed.raw_text,
        {%- for field in idr_segment_event_fields() %}
        {{ idr_segment_event_field('parsed.parsed_event', field) }} as {{ field['column'] }},
        {%- endfor %}
        case
            when parsed.load_error is not null then parsed.load_error
            when parsed.parsed_event is null then 'invalid_json'
            when parsed.identifier_problem is not null then 'invalid_identifier'
        end as source_rejection_reason,
        case
            when parsed.load_error is not null then parsed.load_error_detail
            when parsed.parsed_event is null then 'the line is not a valid JSON object'
            else parsed.identifier_problem
        end as source_rejection_detail
    from typed as parsed
),

shaped as (
    select
        event_source,
        source_name,
        source_row,
        landing_row_number,
        load_id,
        loaded_at,
        raw_text,
        source_rejection_reason,
        source_rejection_detail,
        message_id,
        lower(trim(type_raw)) as event_type,
        case lower(trim(type_raw))
            when 'track' then track_event
            when 'page' then call_name
            when 'screen' then call_name
        end as event_name,
        user_id,
        anonymous_id,
        previous_id,
        group_id,
        traits,
        context_traits,
        properties,
        -- context.app is an object ({"name": ...}); a plain string is taken as the app name.
        case
            when left(context_app, 1) = '{' then {{ idr_json_extract('context_app', ['name']) }}
            else context_app
        end as context_app_name,
        context_device_id,
        context_device_type,
        context_device_advertising_id,
        context_external_ids,
        timestamp_raw,
        original_timestamp_raw,
        sent_at_raw,
        received_at_raw,
        {{ idr_parse_timestamp('timestamp_raw') }} as timestamp_at,
        {{ idr_parse_timestamp('original_timestamp_raw') }} as original_timestamp_at,
        {{ idr_parse_timestamp('sent_at_raw') }} as sent_at,
        {{ idr_parse_timestamp('received_at_raw') }} as received_at
    from extracted
)

select * from shaped
