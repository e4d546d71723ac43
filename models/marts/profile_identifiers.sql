{#- Every usable identifier with the profile it belongs to.
    Incremental: a run rewrites the identifiers the stitching resolved again (the rows of
    int_identifiers_stitched written since this table's last run); identifiers never disappear. -#}
{{ config(
    materialized=idr_incremental(),
    incremental_strategy='delete+insert',
    unique_key=['identifier_type', 'identifier_value'],
) }}

with identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

resolved_again as (
    select * from identifiers_stitched
    where {{ idr_unprocessed() }}
),

final as (
    select
        profile_id,
        identifier_type,
        identifier_value,
        identifier_priority,
        first_seen_at,
        last_seen_at,
        event_count,
        {{ idr_batch_marker() }} as batch_started_at
    from resolved_again
)

select * from final
