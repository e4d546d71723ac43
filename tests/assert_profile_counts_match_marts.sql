-- profiles agrees with the tables it summarizes.
with profiles as (
    select * from {{ ref('profiles') }}
),

identifier_counts as (
    select
        profile_id,
        count(*) as identifier_count
    from {{ ref('profile_identifiers') }}
    group by profile_id
),

event_counts as (
    select
        profile_id,
        count(*) as event_count,
        max(timeline_position) as last_position
    from {{ ref('profile_events') }}
    group by profile_id
)

select profiles.profile_id
from profiles
left join identifier_counts on profiles.profile_id = identifier_counts.profile_id
left join event_counts on profiles.profile_id = event_counts.profile_id
where
    profiles.identifier_count <> coalesce(identifier_counts.identifier_count, 0)
    or profiles.event_count <> coalesce(event_counts.event_count, 0)
    or profiles.event_count <> coalesce(event_counts.last_position, 0)
