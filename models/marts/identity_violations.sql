{#- Every link merge protection refused, with the limit it would break. A refused link never ends
    inside one profile (groups only grow, so merging them later would break the limit too), hence
    the refused links are exactly the links between two profiles. -#}
with identity_edges as (
    select * from {{ ref('identity_edges') }}
    where is_refused
),

profile_identifiers as (
    select * from {{ ref('int_identifiers_stitched') }}
),

numbered as (
    select
        *,
        row_number() over (
            order by identifier_a_type, identifier_a_value, identifier_b_type, identifier_b_value
        ) as link_number
    from identity_edges
),

link_profiles as (
    select
        link_number,
        profile_a_id as profile_id
    from numbered
    union all
    select
        link_number,
        profile_b_id as profile_id
    from numbered
),

combined_counts as (
    -- what the two profiles would hold together, per identifier type and limit window
    select
        link_profiles.link_number,
        profile_identifiers.identifier_type,
        profile_identifiers.identifier_priority,
        profile_identifiers.identifier_limit,
        profile_identifiers.limit_window_start_at,
        count(*) as combined_count
    from link_profiles
    inner join profile_identifiers
        on link_profiles.profile_id = profile_identifiers.profile_id
    group by
        link_profiles.link_number,
        profile_identifiers.identifier_type,
        profile_identifiers.identifier_priority,
        profile_identifiers.identifier_limit,
        profile_identifiers.limit_window_start_at
),

broken_limits as (
    select
        *,
        row_number() over (
            partition by link_number
            order by identifier_priority, identifier_type, limit_window_start_at
        ) as limit_rank
    from combined_counts
    where {{ idr_breaks_limit('combined_count', 'identifier_limit') }}
),

final as (
    select
        numbered.identifier_a_type,
        numbered.identifier_a_value,
        numbered.profile_a_id,
        numbered.identifier_b_type,
        numbered.identifier_b_value,
        numbered.profile_b_id,
        broken_limits.identifier_type as limit_identifier_type,
        broken_limits.identifier_limit as limit_value,
        broken_limits.limit_window_start_at,
        broken_limits.combined_count,
        numbered.first_seen_at,
        numbered.last_seen_at,
        numbered.event_count
    from numbered
    inner join broken_limits
        on numbered.link_number = broken_limits.link_number and broken_limits.limit_rank = 1
)

select * from final
