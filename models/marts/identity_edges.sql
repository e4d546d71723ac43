with identity_edges as (
    select * from {{ ref('int_identity_edges_aggregated') }}
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

final as (
    select
        identifier_a.profile_id,
        identifier_a.identifier_type as identifier_a_type,
        identifier_a.identifier_value as identifier_a_value,
        identifier_b.identifier_type as identifier_b_type,
        identifier_b.identifier_value as identifier_b_value,
        identity_edges.first_seen_at,
        identity_edges.last_seen_at,
        identity_edges.event_count
    from identity_edges
    inner join identifiers_stitched as identifier_a
        on identity_edges.identifier_a_key = identifier_a.identifier_key
    inner join identifiers_stitched as identifier_b
        on identity_edges.identifier_b_key = identifier_b.identifier_key
)

select * from final
