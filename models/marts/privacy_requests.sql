{#- The audit trail of `idr forget`: one row per request, with the identifiers forgotten as salted hashes
    and the rows removed by table. A view: it shows a request completed as soon as the driver marks it. On
    DuckDB it stays in the warehouse file beside the driver's table it reads (the other marts are in the
    marts file); publishing copies it to readers as a table. -#}
{{ config(materialized='view', database=target.database if target.type == 'duckdb' else none) }}

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
