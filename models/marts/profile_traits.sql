{#- The newest value of each trait of each profile.
    Incremental: a run computes again the traits of the profiles whose events changed (the profiles
    events joined, and the profiles whose newest value came from an event that left them); the
    post-hook removes the rows whose deciding event now sits in another profile (a profile left with
    no trait at all has no new rows to replace its old ones). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='profile_id',
    post_hook="{{ idr_delete_orphaned_rows(ref('int_events_assigned'), [('profile_id', 'profile_id'), ('updated_by_message_id', 'message_id')]) }}",
) }}

with traits as (
    select * from {{ ref('int_traits_extracted') }}
),

events_assigned as (
    select * from {{ ref('int_events_assigned') }}
),

{%- if is_incremental() %}

changed_events as (
    select
        message_id,
        profile_id
    from events_assigned
    where {{ idr_unprocessed() }}
),

affected_profiles as (
    select changed_events.profile_id
    from changed_events
    union
    select previous.profile_id
    from {{ this }} as previous
    inner join changed_events on previous.updated_by_message_id = changed_events.message_id
),
{%- endif %}

ranked as (
    select
        events_assigned.profile_id,
        traits.trait,
        traits.trait_value,
        traits.occurred_at,
        traits.trait_source,
        traits.message_id,
        row_number() over (
            partition by events_assigned.profile_id, traits.trait
            order by
                traits.occurred_at desc,
                case traits.trait_source when 'traits' then 1 else 2 end,
                traits.message_id desc
        ) as recency_rank
    from traits
    inner join events_assigned
        on traits.message_id = events_assigned.message_id
    {%- if is_incremental() %}
    where events_assigned.profile_id in (select affected_profiles.profile_id from affected_profiles)
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
