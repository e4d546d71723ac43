{#- The usable identifiers of every accepted event by integer keys (event_key, identifier_key): the
    join the links and the event assignment both start from. Incremental: a run adds the rows of its
    new events. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='append') }}

with identifiers as (
    select * from {{ ref('int_identifiers_extracted') }}
    where not is_blocked and {{ idr_unprocessed() }}
),

identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),

final as (
    select
        identifiers.event_key,
        identifiers.occurred_at,
        identifiers_keyed.identifier_key,
        identifiers.identifier_priority,
        {{ idr_batch_marker() }} as batch_started_at
    from identifiers
    inner join identifiers_keyed
        on
            identifiers.identifier_type = identifiers_keyed.identifier_type
            and identifiers.identifier_value = identifiers_keyed.identifier_value
)

select * from final
