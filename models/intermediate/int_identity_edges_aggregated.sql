{#- Which usable identifiers were seen together in an event: one row per pair (the smaller key
    first), with when the pair was first and last seen, in how many events, and which end is the more
    trusted (lower priority number, then type, then value) — what merge protection orders links by.
    Incremental: a run recomputes the pairs its new events carry, merging with the earlier row. -#}
{{ config(
    materialized=idr_incremental(),
    incremental_strategy='delete+insert',
    unique_key=['identifier_a_key', 'identifier_b_key'],
) }}

with event_identifiers as (
    select * from {{ ref('int_event_identifiers') }}
    where {{ idr_unprocessed() }}
),

identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),

pairs as (
    select
        left_side.identifier_key as identifier_a_key,
        right_side.identifier_key as identifier_b_key,
        left_side.occurred_at
    from event_identifiers as left_side
    inner join event_identifiers as right_side
        on
            left_side.event_key = right_side.event_key
            and left_side.identifier_key < right_side.identifier_key
),

batch_counts as (
    select
        identifier_a_key,
        identifier_b_key,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as event_count
    from pairs
    group by identifier_a_key, identifier_b_key
),

combined as (
    {%- if is_incremental() %}
    select
        batch_counts.identifier_a_key,
        batch_counts.identifier_b_key,
        {{ idr_merged_sightings('batch_counts', 'previous') }}
    from batch_counts
    left join {{ this }} as previous
        on
            batch_counts.identifier_a_key = previous.identifier_a_key
            and batch_counts.identifier_b_key = previous.identifier_b_key
    {%- else %}
    select * from batch_counts
    {%- endif %}
),

oriented as (
    select
        combined.*,
        identifier_a.identifier_priority as a_priority,
        identifier_b.identifier_priority as b_priority,
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
    from combined
    inner join identifiers_keyed as identifier_a
        on combined.identifier_a_key = identifier_a.identifier_key
    inner join identifiers_keyed as identifier_b
        on combined.identifier_b_key = identifier_b.identifier_key
),

final as (
    select
        identifier_a_key,
        identifier_b_key,
        first_seen_at,
        last_seen_at,
        event_count,
        greatest(a_priority, b_priority) as weaker_priority,
        least(a_priority, b_priority) as stronger_priority,
        case when trusted_end = 'a' then identifier_a_key else identifier_b_key end as trusted_identifier_key,
        case when trusted_end = 'a' then identifier_b_key else identifier_a_key end as other_identifier_key,
        {{ idr_batch_marker() }} as batch_started_at
    from oriented
)

select * from final
