with identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

final as (
    select
        profile_id,
        identifier_type,
        identifier_value,
        identifier_priority,
        first_seen_at,
        last_seen_at,
        event_count
    from identifiers_stitched
)

select * from final
