{#- Which usable identifiers were seen together in an event: one row per pair (the smaller key
    first), with when the pair was first and last seen and in how many events, and link_rank: the
    order in which merge protection considers the links, strongest first (README, "Merge protection"). -#}
with identifiers as (
    select * from {{ ref('int_identifiers_extracted') }}
    where not is_blocked
),

identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),

event_identifiers as (
    select
        identifiers.message_id,
        identifiers.occurred_at,
        identifiers_keyed.identifier_key
    from identifiers
    inner join identifiers_keyed
        on
            identifiers.identifier_type = identifiers_keyed.identifier_type
            and identifiers.identifier_value = identifiers_keyed.identifier_value
),

pairs as (
    select
        left_side.identifier_key as identifier_a_key,
        right_side.identifier_key as identifier_b_key,
        left_side.occurred_at
    from event_identifiers as left_side
    inner join event_identifiers as right_side
        on
            left_side.message_id = right_side.message_id
            and left_side.identifier_key < right_side.identifier_key
),

aggregated as (
    select
        identifier_a_key,
        identifier_b_key,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as event_count
    from pairs
    group by identifier_a_key, identifier_b_key
),

oriented as (
    select
        aggregated.*,
        identifier_a.identifier_priority as a_priority,
        identifier_a.identifier_type as a_type,
        identifier_a.identifier_value as a_value,
        identifier_b.identifier_priority as b_priority,
        identifier_b.identifier_type as b_type,
        identifier_b.identifier_value as b_value,
        -- the more trusted end of each link: lower priority number, then type, then value
        case
            when
                identifier_a.identifier_priority < identifier_b.identifier_priority
                or (
                    identifier_a.identifier_priority = identifier_b.identifier_priority
                    and (
                        identifier_a.identifier_type < identifier_b.identifier_type
                        or (
                            identifier_a.identifier_type = identifier_b.identifier_type
                            and identifier_a.identifier_value < identifier_b.identifier_value
                        )
                    )
                )
                then 'a'
            else 'b'
        end as trusted_end
    from aggregated
    inner join identifiers_keyed as identifier_a
        on aggregated.identifier_a_key = identifier_a.identifier_key
    inner join identifiers_keyed as identifier_b
        on aggregated.identifier_b_key = identifier_b.identifier_key
),

final as (
    select
        identifier_a_key,
        identifier_b_key,
        first_seen_at,
        last_seen_at,
        event_count,
        case when trusted_end = 'a' then identifier_a_key else identifier_b_key end as trusted_identifier_key,
        case when trusted_end = 'a' then identifier_b_key else identifier_a_key end as other_identifier_key,
        row_number() over (
            order by
                greatest(a_priority, b_priority),
                least(a_priority, b_priority),
                first_seen_at,
                case when trusted_end = 'a' then a_type else b_type end,
                case when trusted_end = 'a' then a_value else b_value end,
                case when trusted_end = 'a' then b_type else a_type end,
                case when trusted_end = 'a' then b_value else a_value end
        ) as link_rank
    from oriented
)

select * from final
