{#- The newest value of each trait of each profile.
    Incremental: a run computes again the traits of the profiles whose events with traits changed
    (the profiles such events joined, and the profiles whose newest value came from one that left); the
    post-hook removes the rows whose deciding event now sits in another profile (a profile left with
    no trait at all has no new rows to replace its old ones). -#}
{{ config(
    materialized=idr_incremental(),
    incremental_strategy='delete+insert',
    unique_key='profile_id',
    post_hook="""
        {%- set trait_event_profiles -%}
            (
                select events_assigned.profile_id, traits.message_id
                from {{ ref('int_events_assigned') }} as events_assigned
                inner join {{ ref('int_traits_extracted') }} as traits
                    on events_assigned.event_key = traits.event_key
            )
        {%- endset -%}
        {{ idr_delete_orphaned_rows(trait_event_profiles, [('profile_id', 'profile_id'), ('updated_by_message_id', 'message_id')]) }}
    """,
) }}

with traits as (
    select * from {{ ref('int_traits_extracted') }}
),

events_assigned as (
    select * from {{ ref('int_events_assigned') }}
),

assigned_traits as (
    select
        traits.*,
        events_assigned.profile_id,
        events_assigned.batch_started_at as assigned_at
    from traits
    inner join events_assigned
        on traits.event_key = events_assigned.event_key
),

{%- if is_incremental() %}

changed_trait_events as (
    -- events with traits whose assignment changed since this model last ran (only they change traits)
    select distinct
        message_id,
        profile_id
    from assigned_traits
    where {{ idr_unprocessed(column='assigned_at') }}
),

affected_profiles as (
    -- the profiles they joined, and the profiles whose newest value came from one that left
    select changed_trait_events.profile_id
    from changed_trait_events
    union
    select previous.profile_id
    from {{ this }} as previous
    inner join changed_trait_events on previous.updated_by_message_id = changed_trait_events.message_id
),
{%- endif %}

ranked as (
    select
        profile_id,
        trait,
        trait_value,
        occurred_at,
        trait_source,
        message_id,
        row_number() over (
            partition by profile_id, trait
            order by
                occurred_at desc,
                case trait_source when 'traits' then 1 else 2 end,
                message_id desc
        ) as recency_rank
    from assigned_traits
    {%- if is_incremental() %}
    where profile_id in (select affected_profiles.profile_id from affected_profiles)
    {%- endif %}
),

final as (
    select
        profile_id,
        trait,
        trait_value as value,  -- noqa: RF04
        occurred_at as updated_at,
        trait_source,
        message_id as updated_by_message_id,
        {{ idr_batch_marker() }} as batch_started_at
    from ranked
    where recency_rank = 1
)

select * from final
