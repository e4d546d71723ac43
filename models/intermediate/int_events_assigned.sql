{#- The profile of every accepted event that has a usable identifier: the profile of its most trusted
    identifier (lowest priority number, then type and value).
    Incremental: a run assigns its new events and re-assigns the events carrying an identifier that
    moved to another profile since this model last ran; it writes only the assignments that changed,
    so downstream models see exactly the events whose profile (or deciding identifier) changed. -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='message_id') }}

with event_identifiers as (
    select * from {{ ref('int_event_identifiers') }}
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

{%- if is_incremental() %}

affected_messages as (
    select event_identifiers.message_id
    from event_identifiers
    where {{ idr_unprocessed('event_identifiers') }}
    union
    select event_identifiers.message_id
    from event_identifiers
    where event_identifiers.identifier_key in (
        select identifiers_stitched.identifier_key
        from identifiers_stitched
        where {{ idr_unprocessed('identifiers_stitched', column='profile_changed_at') }}
    )
),
{%- endif %}

candidates as (
    select
        event_identifiers.message_id,
        identifiers_stitched.profile_id,
        event_identifiers.identifier_type,
        event_identifiers.identifier_value,
        row_number() over (
            partition by event_identifiers.message_id
            order by
                event_identifiers.identifier_priority,
                event_identifiers.identifier_type,
                event_identifiers.identifier_value
        ) as trust_rank
    from event_identifiers
    inner join identifiers_stitched
        on event_identifiers.identifier_key = identifiers_stitched.identifier_key
    {%- if is_incremental() %}
    where event_identifiers.message_id in (select affected_messages.message_id from affected_messages)
    {%- endif %}
),

assigned as (
    select
        message_id,
        profile_id,
        identifier_type as assigned_by_identifier_type,
        identifier_value as assigned_by_identifier_value
    from candidates
    where trust_rank = 1
),

final as (
    select
        assigned.*,
        {{ idr_batch_marker() }} as batch_started_at
    from assigned
    {%- if is_incremental() %}
    left join {{ this }} as previous
        on assigned.message_id = previous.message_id
    where
        previous.message_id is null
        or previous.profile_id <> assigned.profile_id
        or previous.assigned_by_identifier_type <> assigned.assigned_by_identifier_type
        or previous.assigned_by_identifier_value <> assigned.assigned_by_identifier_value
    {%- endif %}
)

select * from final
