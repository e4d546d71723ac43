{#- Identifier values that would join unusually many people: each value that, over its whole life,
    was seen with more values of another type than that type's limit allows in one profile (docs/inputs.md,
    "Identifier values"). Such a value is a placeholder no list blocks yet (an SDK's fixed id, a test
    account) or a really shared identifier (a kiosk); merge protection refuses the links that break a
    limit either way, but a placeholder belongs in var idr_blocked_values. One row per value and type
    seen with it. A table rebuilt every run (one pass over the links): as a view, its data tests and the
    readers' copy computed it again, three passes a run. -#}
{{ config(materialized='table') }}

with identity_edges as (
    select * from {{ ref('int_identity_edges_aggregated') }}
),

identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),

link_ends as (
    -- every link from both of its ends
    select
        identifier_a_key as identifier_key,
        identifier_b_key as linked_key
    from identity_edges
    union all
    select
        identifier_b_key as identifier_key,
        identifier_a_key as linked_key
    from identity_edges
),

linked_counts as (
    select
        link_ends.identifier_key,
        linked.identifier_type as linked_identifier_type,
        linked.identifier_limit as linked_identifier_limit,
        count(*) as linked_value_count
    from link_ends
    inner join identifiers_keyed as linked
        on link_ends.linked_key = linked.identifier_key
    group by link_ends.identifier_key, linked.identifier_type, linked.identifier_limit
),

final as (
    select
        suspect.identifier_type,
        suspect.identifier_value,
        linked_counts.linked_identifier_type,
        linked_counts.linked_value_count,
        linked_counts.linked_identifier_limit,
        suspect.event_count,
        suspect.first_seen_at,
        suspect.last_seen_at
    from linked_counts
    inner join identifiers_keyed as suspect
        on linked_counts.identifier_key = suspect.identifier_key
    where {{ idr_breaks_limit('linked_counts.linked_value_count', 'linked_counts.linked_identifier_limit') }}
)

select * from final
