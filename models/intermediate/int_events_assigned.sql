{#- The profile of every accepted event that has a usable identifier: the profile of the event's
    most trusted identifier (lowest priority number, then type and value).
    Incremental: a run re-assigns the events that carry an identifier it resolved again. -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='message_id') }}

with identifiers as (
    select * from {{ ref('int_identifiers_extracted') }}
    where not is_blocked
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

{%- if is_incremental() %}

affected_messages as (
    select distinct identifiers.message_id
    from identifiers
    inner join identifiers_stitched
        on
            identifiers.identifier_type = identifiers_stitched.identifier_type
            and identifiers.identifier_value = identifiers_stitched.identifier_value
    where {{ idr_unprocessed('identifiers_stitched') }}
),
{%- endif %}

candidates as (
    select
        identifiers.message_id,
        identifiers_stitched.profile_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        row_number() over (
            partition by identifiers.message_id
            order by identifiers.identifier_priority, identifiers.identifier_type, identifiers.identifier_value
        ) as trust_rank
    from identifiers
    inner join identifiers_stitched
        on
            identifiers.identifier_type = identifiers_stitched.identifier_type
            and identifiers.identifier_value = identifiers_stitched.identifier_value
    {%- if is_incremental() %}
    where identifiers.message_id in (select affected_messages.message_id from affected_messages)
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
