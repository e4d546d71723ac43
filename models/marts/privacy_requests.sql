{#- The audit trail of `idr forget`: one row per request, with the identifiers forgotten as salted hashes
    and the rows removed by table. A view: it shows a request completed as soon as the driver marks it. -#}
{{ config(materialized='view') }}

with privacy_requests as (
    select * from {{ ref('stg_landing__privacy_requests') }}
),

final as (
    select
        request_id,
        identifier_hashes,
        requested_at,
        completed_at,
        profiles_removed,
        rows_removed,
        completed_at is not null as is_completed
    from privacy_requests
)

select * from final
