{#- The profile of every accepted event that has a usable identifier: the profile of the event's
    most trusted identifier (lowest priority number, then type and value). -#}
with identifiers as (
    select * from {{ ref('int_identifiers_extracted') }}
    where not is_blocked
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

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
),

final as (
    select
        message_id,
        profile_id,
        identifier_type as assigned_by_identifier_type,
        identifier_value as assigned_by_identifier_value
    from candidates
    where trust_rank = 1
)

select * from final
