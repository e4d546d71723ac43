{#- Every link: two identifiers seen together in an event (identifier_a is the more trusted end),
    with the profiles they ended in. A link between two profiles is one merge protection refused
    (identity_violations says which limit).
    Incremental: a run rewrites the links with an end the stitching wrote again (a new link has two
    new or seen-again ends; a link whose end changed profile may have become or stopped being
    refused); links never disappear. -#}
{{ config(
    materialized=idr_incremental(),
    incremental_strategy='delete+insert',
    unique_key=['identifier_a_type', 'identifier_a_value', 'identifier_b_type', 'identifier_b_value'],
) }}

with identity_edges as (
    select * from {{ ref('int_identity_edges_aggregated') }}
),

identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

final as (
    select
        identifier_a.identifier_type as identifier_a_type,
        identifier_a.identifier_value as identifier_a_value,
        identifier_a.profile_id as profile_a_id,
        identifier_b.identifier_type as identifier_b_type,
        identifier_b.identifier_value as identifier_b_value,
        identifier_b.profile_id as profile_b_id,
        identity_edges.first_seen_at,
        identity_edges.last_seen_at,
        identity_edges.event_count,
        identifier_a.profile_id <> identifier_b.profile_id as is_refused,
        {{ idr_batch_marker() }} as batch_started_at
    from identity_edges
    inner join identifiers_stitched as identifier_a
        on identity_edges.trusted_identifier_key = identifier_a.identifier_key
    inner join identifiers_stitched as identifier_b
        on identity_edges.other_identifier_key = identifier_b.identifier_key
    where {{ idr_unprocessed('identifier_a') }} or {{ idr_unprocessed('identifier_b') }}
)

select * from final
