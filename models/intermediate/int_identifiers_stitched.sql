{#- Every usable identifier with its profile. The identity_stitch macro groups the identifiers the
    links connect, with merge protection (limits and priorities).

    Profile ids are stable: a group keeps the id of the oldest earlier profile whose oldest identifier
    it holds (Segment keeps the first-created profile); a group without one gets 'prof_' + a hash of
    its oldest identifier, so the same input always gives the same ids.

    Incremental: only the connected components that hold an identifier of this run's events are
    resolved again (a component is the unit: a late link can change any merge inside it); of their
    rows, those that are new or changed (profile, component, or the identifier seen again) are
    written, tagged with the run's batch_started_at, so downstream models see only what changed. profile_changed_at says when an
    identifier last moved to another profile (or appeared) and previous_profile_id where it was
    before: downstream models re-assign only the events of identifiers that moved. -#}
{{ config(materialized=idr_incremental(), incremental_strategy='delete+insert', unique_key='identifier_key') }}

{#- a full refresh names its profiles after the profiles before it, as a night does
    (macros/profile_carry_over.sql); `previous` is where the earlier profiles are read from -#}
{%- set carried = none if is_incremental() else idr_carried_profiles() %}
{%- set keeps_ids = is_incremental() or carried is not none %}
{%- set previous_relation = this if is_incremental() else 'carried_profiles' %}

-- The DuckDB stitching uses a keyed recursive CTE (USING KEY) that sqlfluff cannot parse yet.
-- sqlfluff:ignore:parsing
with identifiers_keyed as (
    select * from {{ ref('int_identifiers_keyed') }}
),
{%- if carried is not none %}

carried_profiles as (
    -- the profiles before the full refresh, by the rebuilt identifiers' keys
    select
        identifiers_keyed.identifier_key,
        carried.identifier_type,
        carried.identifier_value,
        carried.identifier_priority,
        carried.first_seen_at,
        carried.profile_id,
        carried.previous_profile_id,
        carried.was_profile_anchor,
        carried.profile_changed_at
    from {{ carried }} as carried
    inner join identifiers_keyed
        on
            carried.identifier_type = identifiers_keyed.identifier_type
            and carried.identifier_value = identifiers_keyed.identifier_value
),
{%- endif %}

affected_keys as (
    {%- if is_incremental() %}
    select identifier_key from identifiers_keyed
    where {{ idr_unprocessed() }}
    union
    select previous.identifier_key
    from {{ this }} as previous
    where previous.connected_key in (
        select touched.connected_key
        from {{ this }} as touched
        inner join identifiers_keyed on touched.identifier_key = identifiers_keyed.identifier_key
        where {{ idr_unprocessed('identifiers_keyed') }}
    )
    {%- else %}
    select identifier_key from identifiers_keyed
    {%- endif %}
),

nodes as (
    select identifiers_keyed.*
    from identifiers_keyed
    inner join affected_keys on identifiers_keyed.identifier_key = affected_keys.identifier_key
),

components as (
    {#- a full build stitches every identifier: the relations themselves, which engines that stitch in
        a loop of statements (Spark) need -#}
    {{ idr_stitch_identity_graph(
        'nodes' if is_incremental() else ref('int_identifiers_keyed'), ref('int_identity_edges_aggregated')
    ) }}
),

grouped as (
    select
        nodes.*,
        components.component_key,
        components.connected_key
    from nodes
    inner join components on nodes.identifier_key = components.identifier_key
),

anchor_keys as (
    select
        component_key,
        {{ idr_min_by(
            'identifier_key', ['first_seen_at', 'identifier_priority', 'identifier_type', 'identifier_value']
        ) }} as anchor_key
    from grouped
    group by component_key
),

anchors as (
    -- the oldest identifier of each group
    select grouped.*
    from grouped
    inner join anchor_keys on grouped.identifier_key = anchor_keys.anchor_key
),

{%- if keeps_ids %}

previous_profiles as (
    -- every earlier profile of the affected identifiers, with its oldest identifier at the time
    select
        profile_id,
        identifier_key as anchor_key,
        first_seen_at as profile_first_seen_at
    from (
        select
            previous.*,
            row_number() over (
                partition by previous.profile_id
                order by
                    previous.first_seen_at,
                    previous.identifier_priority,
                    previous.identifier_type,
                    previous.identifier_value
            ) as age_rank
        from {{ previous_relation }} as previous
        where previous.identifier_key in (select affected_keys.identifier_key from affected_keys)
    ) as ranked
    where age_rank = 1
),

surviving_ids as (
    select
        grouped.component_key,
        previous_profiles.profile_id,
        row_number() over (
            partition by grouped.component_key
            order by previous_profiles.profile_first_seen_at, previous_profiles.profile_id
        ) as survivor_rank
    from previous_profiles
    inner join grouped on previous_profiles.anchor_key = grouped.identifier_key
),
{%- endif %}

hashed_ids as (
    select
        component_key,
        {{ idr_sql_string(var('idr_profile_id_prefix')) }}
        || substr({{ dbt.hash("identifier_type || ':' || identifier_value") }}, 1, 20) as profile_id
    from anchors
),

profile_ids as (
    select
        anchors.component_key,
        {%- if keeps_ids %}
        -- a new id never takes one still in use: when the hash of the oldest identifier already names
        -- another profile (its oldest identifier moved here in a split), the run id is mixed in
        coalesce(
            surviving_ids.profile_id,
            case
                when hashed_ids.profile_id in (
                    select distinct previous.profile_id from {{ previous_relation }} as previous
                )
                    then {{ idr_sql_string(var('idr_profile_id_prefix')) }} || substr(
                        {{ dbt.hash("anchors.identifier_type || ':' || anchors.identifier_value || ':"
                                    ~ invocation_id ~ "'") }}, 1, 20
                    )
                else hashed_ids.profile_id
            end
        ) as profile_id
        {%- else %}
        {{ idr_sql_string(var('idr_profile_id_prefix')) }}
        || substr({{ dbt.hash("anchors.identifier_type || ':' || anchors.identifier_value") }}, 1, 20) as profile_id
        {%- endif %}
    from anchors
    inner join hashed_ids on anchors.component_key = hashed_ids.component_key
    {%- if keeps_ids %}
    left join surviving_ids
        on anchors.component_key = surviving_ids.component_key and surviving_ids.survivor_rank = 1
    {%- endif %}
),

resolved as (
    select
        grouped.identifier_key,
        grouped.identifier_type,
        grouped.identifier_value,
        grouped.identifier_priority,
        grouped.first_seen_at,
        grouped.last_seen_at,
        grouped.event_count,
        grouped.identifier_limit,
        grouped.limit_window_start_at,
        grouped.connected_key,
        profile_ids.profile_id,
        {%- if keeps_ids %}
        -- an identifier whose profile did not change keeps the record of its last change, so that a
        -- change made by a run killed before the downstream models is still seen by the next run
        case
            when previous.profile_id = profile_ids.profile_id then previous.previous_profile_id
            else previous.profile_id
        end as previous_profile_id,
        case
            when previous.profile_id = profile_ids.profile_id then previous.was_profile_anchor
            else previous_profiles.anchor_key is not null
        end as was_profile_anchor,
        case
            when previous.profile_id = profile_ids.profile_id then previous.profile_changed_at
            else {{ idr_batch_marker() }}
        end as profile_changed_at,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as previous_profile_id,
        false as was_profile_anchor,
        {{ idr_batch_marker() }} as profile_changed_at,
        {%- endif %}
        {{ idr_unprocessed('grouped') }} as is_touched,
        {{ idr_batch_marker() }} as batch_started_at
    from grouped
    inner join profile_ids on grouped.component_key = profile_ids.component_key
    {%- if keeps_ids %}
    left join {{ previous_relation }} as previous on grouped.identifier_key = previous.identifier_key
    left join previous_profiles on grouped.identifier_key = previous_profiles.anchor_key
    {%- endif %}
),

final as (
    select resolved.*
    from resolved
    {%- if is_incremental() %}
    -- a component resolved again mostly comes out as it was: only new and changed rows are written
    left join {{ this }} as stored on resolved.identifier_key = stored.identifier_key
    where
        stored.identifier_key is null
        or resolved.is_touched
        or resolved.profile_id <> stored.profile_id
        or resolved.connected_key <> stored.connected_key
    {%- endif %}
)

select * from final
