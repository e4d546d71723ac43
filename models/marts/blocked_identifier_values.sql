{#- Every placeholder value that was kept out of identity resolution, with how often it was sent. -#}
with identifiers as (
    select * from {{ ref('int_identifiers_extracted') }}
    where is_blocked
),

final as (
    select
        identifier_type,
        identifier_value,
        count(*) as event_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from identifiers
    group by identifier_type, identifier_value
)

select * from final
