{#- Every trait value an accepted event carries: the `traits` of identify calls and the
    `context.traits` of any call. JSON nulls are skipped. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='append') }}

with events as (
    -- on an incremental run, the accepted events this run added
    select * from {{ ref('int_events_validated') }}
    where rejection_reason is null and {{ idr_unprocessed() }}
),

identify_events as (
    select * from events
    where event_type = 'identify'
),

entries as (
    select
        event_key,
        message_id,
        occurred_at,
        'traits' as trait_source,
        entry_key as trait,
        entry_json
    from (
        {{ idr_json_entries('identify_events', ['event_key', 'message_id', 'occurred_at'], 'traits') }}
    ) as identify_traits
    union all
    select
        event_key,
        message_id,
        occurred_at,
        'context.traits' as trait_source,
        entry_key as trait,
        entry_json
    from (
        {{ idr_json_entries('events', ['event_key', 'message_id', 'occurred_at'], 'context_traits') }}
    ) as context_traits
),

final as (
    select
        event_key,
        message_id,
        occurred_at,
        trait_source,
        trait,
        {{ idr_json_extract('entry_json', []) }} as trait_value,
        {{ idr_batch_marker() }} as batch_started_at
    from entries
    where {{ idr_json_extract('entry_json', []) }} is not null
)

select * from final
