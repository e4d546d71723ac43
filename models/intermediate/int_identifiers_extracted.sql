{#- The identifiers of every accepted event: one row per event and distinct identifier, trimmed,
    lower-cased where configured, and flagged when the value is a blocked placeholder. -#}
{%- set lowercase_types = [] -%}
{%- for identifier_type in var('idr_lowercase_identifier_types') -%}
{%- do lowercase_types.append(idr_sql_string(identifier_type)) -%}
{%- endfor -%}

{{ config(materialized=idr_incremental(), incremental_strategy='append') }}

with events as {{ idr_not_materialized() }} (
    -- on an incremental run, the accepted events this run added
    select * from {{ ref('int_events_validated') }}
    where rejection_reason is null and {{ idr_unprocessed() }}
),

candidates as (
    {%- for source_select in idr_identifier_source_selects('events') %}
    {{ source_select }}
    union all
    {%- endfor %}
    {%- if var('idr_use_external_ids') %}
    select
        message_id,
        occurred_at,
        lower(trim({{ idr_json_extract('entry_json', ['type']) }})) as identifier_type,
        {{ idr_json_extract('entry_json', ['id']) }} as raw_value,
        'context.externalIds' as identifier_source
    from (
        {{ idr_json_entries('events', ['message_id', 'occurred_at'], 'context_external_ids') }}
    ) as external_ids
    {%- else %}
    select
        message_id,
        occurred_at,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as raw_value,
        cast(null as {{ dbt.type_string() }}) as identifier_source
    from events
    where 1 = 0
    {%- endif %}
),

normalized as (
    select
        message_id,
        occurred_at,
        identifier_type,
        identifier_source,
        case
            {%- if lowercase_types %}
            when identifier_type in ({{ lowercase_types | join(', ') }}) then lower(trim(raw_value))
            {%- endif %}
            else trim(raw_value)
        end as identifier_value
    from candidates
    where coalesce(identifier_type, '') <> ''
),

deduplicated as (
    select
        message_id,
        identifier_type,
        identifier_value,
        min(occurred_at) as occurred_at,
        min(identifier_source) as identifier_source
    from normalized
    where coalesce(identifier_value, '') <> ''
    group by message_id, identifier_type, identifier_value
),

final as (
    select
        message_id,
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
