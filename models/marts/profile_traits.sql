with traits as (
    select * from {{ ref('int_traits_extracted') }}
),

events_assigned as (
    select * from {{ ref('int_events_assigned') }}
),

ranked as (
    select
        events_assigned.profile_id,
        traits.trait,
        traits.trait_value,
        traits.occurred_at,
        traits.trait_source,
        traits.message_id,
        row_number() over (
            partition by events_assigned.profile_id, traits.trait
            order by
                traits.occurred_at desc,
                case traits.trait_source when 'traits' then 1 else 2 end,
                traits.message_id desc
        ) as recency_rank
    from traits
    inner join events_assigned
        on traits.message_id = events_assigned.message_id
),

final as (
    select
        profile_id,
        trait,
        trait_value as value,  -- noqa: RF04
        occurred_at as updated_at,
        trait_source,
        message_id as updated_by_message_id
    from ranked
    where recency_rank = 1
)

select * from final
