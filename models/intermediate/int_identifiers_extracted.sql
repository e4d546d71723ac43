{#- The identifiers of every accepted event: one row per event (event_key) and distinct identifier,
    trimmed, lower-cased where configured, and flagged when the value is a blocked placeholder. A
    value an event has from two sources is kept once, from the source whose name sorts first: the
    configured sources are compared row by row, and only events with context.externalIds are grouped. -#}

{{ config(materialized=idr_incremental(), incremental_strategy='append') }}

with events as {{ idr_not_materialized() }} (
    -- on an incremental run, the accepted events this run added
    select * from {{ ref('int_events_validated') }}
    where rejection_reason is null and {{ idr_unprocessed() }}
),

{%- if var('idr_use_external_ids') %}

events_without_external_ids as {{ idr_not_materialized() }} (
    select * from events
    where context_external_ids is null
),

events_with_external_ids as (
    select * from events
    where context_external_ids is not null
),

external_identifiers as (
    {{ idr_external_identifier_rows('events_with_external_ids') }}
),

with_external_ids as (
    -- events with externalIds: their entries and their other sources' identifiers, one row per value
    select
        event_key,
        identifier_type,
        identifier_value,
        min(occurred_at) as occurred_at,
        min(identifier_source) as identifier_source
    from (
        select * from external_identifiers
        {%- for source_select in idr_identifier_source_selects('events_with_external_ids') %}
        union all
        {{ source_select }}
        {%- endfor %}
    ) as candidates
    group by event_key, identifier_type, identifier_value
),

deduplicated as (
    {%- for source_select in idr_identifier_source_selects('events_without_external_ids') %}
    {{ source_select }}
    union all
    {%- endfor %}
    select
        event_key,
        occurred_at,
        identifier_type,
        identifier_value,
        identifier_source
    from with_external_ids
),

{%- else %}

deduplicated as (
    {%- for source_select in idr_identifier_source_selects('events') %}
    {{ source_select }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),
{%- endif %}

final as (
    select
        event_key,
        occurred_at,
        identifier_type,
        identifier_value,
        identifier_source,
        {{ idr_identifier_priority('identifier_type') }} as identifier_priority,
        {{ idr_is_blocked_value('identifier_value') }} as is_blocked,
        {{ idr_batch_marker() }} as batch_started_at
    from deduplicated
)

select * from final
