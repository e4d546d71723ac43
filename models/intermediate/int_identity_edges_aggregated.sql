{#- Which usable identifiers were seen together in an event: one row per pair (the smaller key
    first), with when the pair was first and last seen and in how many events. -#}
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

final as (
    select
        identifier_a_key,
        identifier_b_key,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as event_count
    from pairs
    group by identifier_a_key, identifier_b_key
)

select * from final
