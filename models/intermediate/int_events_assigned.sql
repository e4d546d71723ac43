{#- The profile of every accepted event that has a usable identifier: the profile of the event's
    most trusted identifier (lowest priority number, then type and value).
    Incremental: a run re-assigns the events that carry an identifier it resolved again. -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='message_id') }}

with event_identifiers as (
    select * from {{ ref('int_event_identifiers') }}
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

{%- if is_incremental() %}

affected_messages as (
    select distinct event_identifiers.message_id
    from event_identifiers
    where event_identifiers.identifier_key in (
        select identifiers_stitched.identifier_key
        from identifiers_stitched
        where {{ idr_unprocessed('identifiers_stitched') }}
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

final as (
    select
        message_id,
        profile_id,
        identifier_type as assigned_by_identifier_type,
        identifier_value as assigned_by_identifier_value,
        {{ idr_batch_marker() }} as batch_started_at
    from candidates
    where trust_rank = 1
)

select * from final
