{#- One row per usable identifier, numbered: the integer identifier_key orders identifiers by when
    they were first seen, then by priority, type and value, so the smallest key of a group is its
    oldest identifier. Each carries its type's limit and the calendar window the limit counts it in. -#}
with identifiers as (
    select * from {{ ref('int_identifiers_extracted') }}
    where not is_blocked
),

aggregated as (
    select
        identifier_type,
        identifier_value,
        min(identifier_priority) as identifier_priority,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as event_count
    from identifiers
    group by identifier_type, identifier_value
),

final as (
    select
        identifier_type,
        identifier_value,
        identifier_priority,
        first_seen_at,
        last_seen_at,
        event_count,
        {{ idr_identifier_setting('identifier_type', 'limit') }} as identifier_limit,
        {{ idr_limit_window_start('identifier_type', 'first_seen_at') }} as limit_window_start_at,
        row_number() over (
            order by first_seen_at, identifier_priority, identifier_type, identifier_value
        ) as identifier_key
    from aggregated
)

select * from final
