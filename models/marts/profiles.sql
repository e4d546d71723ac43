{#- One <type>_count column per configured identifier type (dots and dashes become underscores). -#}
{%- set type_columns = [] -%}
{%- set configured_types = [] -%}
{%- for identifier_type in var('idr_identifier_types') -%}
{%- set column_name = identifier_type | replace('.', '_') | replace('-', '_') ~ '_count' -%}
{%- do type_columns.append((identifier_type, column_name)) -%}
{%- do configured_types.append(idr_sql_string(identifier_type)) -%}
{%- endfor -%}
{#- Incremental: a run computes again the profiles holding an identifier it resolved again and the
    profiles such an identifier left, and the profiles that events joined or left (with traits, the only
    other things a profile's row summarizes); the post-hook removes the profiles that no longer exist (merged into others). -#}
{{ config(
    materialized=idr_incremental(),
    incremental_strategy='delete+insert',
    unique_key='profile_id',
    post_hook="{{ idr_delete_orphaned_rows(ref('int_identifiers_stitched'), [('profile_id', 'profile_id')]) }}",
) }}

with identifiers_stitched as (
    select * from {{ ref('int_identifiers_stitched') }}
),

profile_identifiers as (
    select * from {{ ref('profile_identifiers') }}
),

profile_events as (
    select * from {{ ref('profile_events') }}
),

profile_traits as (
    select * from {{ ref('profile_traits') }}
),

events_assigned as (
    select * from {{ ref('int_events_assigned') }}
),

affected_profiles as (
    -- the profiles of the identifiers resolved again and the ones those identifiers left, and the
    -- profiles that events joined or left (an event can move without its identifiers moving, when an
    -- identifier becomes shared or a session gains an identify)
    {%- for moved in ['identifiers_stitched', 'events_assigned'] %}
    {{ 'union' if not loop.first }}
    select profile_id
    from {{ moved }}
    where {{ idr_unprocessed() }}
    union
    select previous_profile_id as profile_id
    from {{ moved }}
    where {{ idr_unprocessed() }} and previous_profile_id is not null
    {%- endfor %}
),

identifier_counts as (
    select
        profile_id,
        count(*) as identifier_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        {%- for identifier_type, column_name in type_columns %}
        sum(case when identifier_type = {{ idr_sql_string(identifier_type) }} then 1 else 0 end)
            as {{ column_name }},
        {%- endfor %}
        sum(case when identifier_type in ({{ configured_types | join(', ') }}) then 0 else 1 end)
            as other_identifier_count
    from profile_identifiers
    where profile_id in (select affected_profiles.profile_id from affected_profiles)
    group by profile_id
),

latest_identifiers as (
    select
        profile_id,
        identifier_type,
        identifier_value,
        row_number() over (
            partition by profile_id, identifier_type
            order by last_seen_at desc, identifier_value asc
        ) as recency_rank
    from profile_identifiers
    where
        identifier_type in ('user_id', 'email')
        and profile_id in (select affected_profiles.profile_id from affected_profiles)
),

event_counts as (
    select
        profile_id,
        count(*) as event_count
    from profile_events
    where profile_id in (select affected_profiles.profile_id from affected_profiles)
    group by profile_id
),

trait_objects as (
    select
        profile_id,
        count(*) as trait_count,
        {{ idr_json_group_object('trait', 'value') }} as traits
    from profile_traits
    where profile_id in (select affected_profiles.profile_id from affected_profiles)
    group by profile_id
),

final as (
    select
        identifier_counts.profile_id,
        latest_user_ids.identifier_value as user_id,
        latest_emails.identifier_value as email,
        identifier_counts.identifier_count,
        {%- for _, column_name in type_columns %}
        identifier_counts.{{ column_name }},
        {%- endfor %}
        identifier_counts.other_identifier_count,
        identifier_counts.first_seen_at,
        identifier_counts.last_seen_at,
        trait_objects.traits,
        coalesce(event_counts.event_count, 0) as event_count,
        coalesce(trait_objects.trait_count, 0) as trait_count,
        {{ idr_batch_marker() }} as batch_started_at
    from identifier_counts
    left join latest_identifiers as latest_user_ids
        on
            identifier_counts.profile_id = latest_user_ids.profile_id
            and latest_user_ids.identifier_type = 'user_id'
            and latest_user_ids.recency_rank = 1
    left join latest_identifiers as latest_emails
        on
            identifier_counts.profile_id = latest_emails.profile_id
            and latest_emails.identifier_type = 'email'
            and latest_emails.recency_rank = 1
    left join event_counts
        on identifier_counts.profile_id = event_counts.profile_id
    left join trait_objects
        on identifier_counts.profile_id = trait_objects.profile_id
)

select * from final
