{#- The merge history: one row each time a profile id stopped being used because its profile merged
    into an older one. The id of the merged profile lives on in profile_id_map. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='append') }}

{#- a full refresh keeps the merges before it (macros/profile_carry_over.sql) -#}
{%- set carried_merges = none if is_incremental() else idr_carried_merges() %}

with identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
    where {{ idr_unprocessed() }}
),

merged as (
    -- an earlier profile whose oldest identifier moved, since this model last ran, into a profile
    -- with another id
    select
        previous_profile_id as merged_profile_id,
        profile_id
    from identifiers_stitched
    where
        was_profile_anchor
        and previous_profile_id <> profile_id
        {%- if is_incremental() %}
        and {{ idr_unprocessed(column='profile_changed_at') }}
        {%- else %}
        and profile_changed_at = {{ idr_batch_marker() }}
        {%- endif %}
),

causes as (
    -- the most trusted identifier of the surviving profile that this run's events carried
    select
        profile_id,
        identifier_type,
        identifier_value,
        row_number() over (
            partition by profile_id
            order by identifier_priority, identifier_type, identifier_value
        ) as trust_rank
    from identifiers_stitched
    where is_touched
),

merged_now as (
    select
        merged.merged_profile_id,
        merged.profile_id,
        causes.identifier_type as merged_by_identifier_type,
        causes.identifier_value as merged_by_identifier_value,
        cast(current_timestamp as {{ dbt.type_timestamp() }}) as merged_at,
        '{{ invocation_id }}' as merged_in_run_id,
        {{ idr_batch_marker() }} as batch_started_at
    from merged
    left join causes
        on merged.profile_id = causes.profile_id and causes.trust_rank = 1
),

final as (
    select * from merged_now
    {%- if carried_merges is not none %}
    union all
    select
        merged_profile_id,
        profile_id,
        merged_by_identifier_type,
        merged_by_identifier_value,
        merged_at,
        merged_in_run_id,
        batch_started_at
    from {{ carried_merges }}
    {%- endif %}
)

select * from final
