{#- The audit trail of `idr forget` (landing.privacy_requests, written by the driver), empty until the
    first forget. -#}
with source as (
    {{ idr_relation_or_empty(source('landing', 'privacy_requests'), {
        'request_id': dbt.type_string(),
        'identifier_hashes': dbt.type_string(),
        'requested_at': dbt.type_timestamp(),
        'completed_at': dbt.type_timestamp(),
        'profiles_removed': dbt.type_bigint(),
        'rows_removed': dbt.type_string(),
    }) }}
),

final as (
    select
        request_id,
        identifier_hashes,
        requested_at,
        completed_at,
        profiles_removed,
        cast(rows_removed as {{ dbt.type_string() }}) as rows_removed
    from source
)

select * from final
