{#- The profile of every accepted event that has a usable identifier: the profile of its most trusted
    identifier (lowest priority number, then type and value), the event's deciding identifier.
    Incremental: which identifier decides an event never changes (it depends on the event's own
    identifiers only), so a run assigns its new events and re-assigns the events whose deciding
    identifier moved to another profile since this model last ran; it writes only the assignments
    that changed, so downstream models see exactly the events whose profile changed. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='delete+insert', unique_key='message_id') }}

with event_identifiers as (
    select * from {{ ref('int_event_identifiers') }}
    where {{ idr_unprocessed() }}
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

ranked as (
    select
        message_id,
        identifier_key,
        identifier_type,
        identifier_value,
        row_number() over (
            partition by message_id
            order by identifier_priority, identifier_type, identifier_value
        ) as trust_rank
    from event_identifiers
),

deciding_identifiers as (
    select
        message_id,
        identifier_key as assigned_by_identifier_key,
        identifier_type as assigned_by_identifier_type,
        identifier_value as assigned_by_identifier_value
    from ranked
    where trust_rank = 1
    {%- if is_incremental() %}
    union all
    select
        previous.message_id,
        previous.assigned_by_identifier_key,
        previous.assigned_by_identifier_type,
        previous.assigned_by_identifier_value
    from {{ this }} as previous
    where
        previous.assigned_by_identifier_key in (
            select identifiers_stitched.identifier_key
            from identifiers_stitched
            where {{ idr_unprocessed('identifiers_stitched', column='profile_changed_at') }}
        )
        and previous.message_id not in (select ranked.message_id from ranked)
    {%- endif %}
),

final as (
    select
        deciding_identifiers.message_id,
        identifiers_stitched.profile_id,
        deciding_identifiers.assigned_by_identifier_key,
        deciding_identifiers.assigned_by_identifier_type,
        deciding_identifiers.assigned_by_identifier_value,
        {{ idr_batch_marker() }} as batch_started_at
    from deciding_identifiers
    inner join identifiers_stitched
        on deciding_identifiers.assigned_by_identifier_key = identifiers_stitched.identifier_key
    {%- if is_incremental() %}
    left join {{ this }} as previous
        on deciding_identifiers.message_id = previous.message_id
    where previous.message_id is null or previous.profile_id <> identifiers_stitched.profile_id
    {%- endif %}
)

select * from final
