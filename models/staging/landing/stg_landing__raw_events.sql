{#- One row per line (or JSON-array element) the driver loaded: the Segment-spec JSON parsed into the
    common event shape. Rows that are not a JSON object keep their raw text and a rejection reason. -#}
with source as (
    {{ idr_relation_or_empty(source('landing', 'raw_events'), {
        'load_id': dbt.type_string(),
        'source_file': dbt.type_string(),
        'source_line': dbt.type_bigint(),
        'raw_text': dbt.type_string(),
        'load_error': dbt.type_string(),
        'load_error_detail': dbt.type_string(),
        'loaded_at': dbt.type_timestamp(),
    }) }}
),

checked as (
    select
        *,
        load_error is null and {{ idr_is_json_object('raw_text') }} as is_json_object
    from source
),

extracted as (
    select
        'landing' as event_source,
        source_file as source_name,
        source_line as source_row,
        load_id,
        loaded_at,
        raw_text,
        case
            when load_error is not null then load_error
            when not is_json_object then 'invalid_json'
        end as source_rejection_reason,
        case
            when load_error is not null then load_error_detail
            when not is_json_object then 'the line is not a valid JSON object'
        end as source_rejection_detail,
        case when is_json_object then raw_text end as payload
    from checked
),

renamed as (
    select
        event_source,
        source_name,
        source_row,
        load_id,
        loaded_at,
        raw_text,
        source_rejection_reason,
        source_rejection_detail,
        {{ idr_json_extract('payload', ['messageId']) }} as message_id,
        lower(trim({{ idr_json_extract('payload', ['type']) }})) as event_type,
        {{ idr_json_extract('payload', ['event']) }} as track_event,
        {{ idr_json_extract('payload', ['name']) }} as call_name,
        {{ idr_json_extract('payload', ['userId']) }} as user_id,
        {{ idr_json_extract('payload', ['anonymousId']) }} as anonymous_id,
        {{ idr_json_extract('payload', ['previousId']) }} as previous_id,
        {{ idr_json_extract('payload', ['groupId']) }} as group_id,
        {{ idr_json_extract('payload', ['traits']) }} as traits,
        {{ idr_json_extract('payload', ['context', 'traits']) }} as context_traits,
        {{ idr_json_extract('payload', ['properties']) }} as properties,
        {{ idr_json_extract('payload', ['context', 'app', 'name']) }} as context_app_object_name,
        {{ idr_json_extract('payload', ['context', 'app']) }} as context_app,
        {{ idr_json_extract('payload', ['context', 'device', 'id']) }} as context_device_id,
        {{ idr_json_extract('payload', ['context', 'device', 'type']) }} as context_device_type,
        {{ idr_json_extract('payload', ['context', 'device', 'advertisingId']) }}
            as context_device_advertising_id,
        {{ idr_json_extract('payload', ['context', 'externalIds']) }} as context_external_ids,
        {{ idr_json_extract('payload', ['timestamp']) }} as timestamp_raw,
        {{ idr_json_extract('payload', ['originalTimestamp']) }} as original_timestamp_raw,
        {{ idr_json_extract('payload', ['sentAt']) }} as sent_at_raw,
        {{ idr_json_extract('payload', ['receivedAt']) }} as received_at_raw
    from extracted
),

shaped as (
    select
        event_source,
        source_name,
        source_row,
        load_id,
        loaded_at,
        raw_text,
        source_rejection_reason,
        source_rejection_detail,
        message_id,
        event_type,
        case
            when event_type = 'track' then track_event
            when event_type in ('page', 'screen') then call_name
        end as event_name,
        user_id,
        anonymous_id,
        previous_id,
        group_id,
        traits,
        context_traits,
        properties,
        -- context.app is an object ({"name": ...}); a plain string is taken as the app name.
        coalesce(
            context_app_object_name,
            case when left(context_app, 1) <> '{' then context_app end
        ) as context_app_name,
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
    from renamed
)

select * from shaped
