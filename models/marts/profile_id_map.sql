{#- Every profile id ever handed out, with the profile it belongs to now: itself while it is in use,
    else the end of its chain of merges (merges of merges included). -#}
with recursive profile_merges as (
    select * from {{ ref('profile_merges') }}
),

live_ids as (
    select distinct profile_id from {{ ref('int_identifiers_stitched') }}
),

latest_merges as (
    -- the last merge of each id (an id can be merged, revived by a split, and merged again)
    select
        merged_profile_id,
        profile_id,
        merged_at
    from (
        select
            *,
            row_number() over (partition by merged_profile_id order by merged_at desc, profile_id asc) as merge_rank
        from profile_merges
    ) as ranked
    where merge_rank = 1
),

chains (profile_id_ever, current_profile_id, hops) as (
    select
        merged_profile_id as profile_id_ever,
        profile_id as current_profile_id,
        1 as hops
    from latest_merges
    where merged_profile_id not in (select live_ids.profile_id from live_ids)
    union all
    select
        chains.profile_id_ever,
        latest_merges.profile_id as current_profile_id,
        chains.hops + 1 as hops
    from chains
    inner join latest_merges on chains.current_profile_id = latest_merges.merged_profile_id
    where
        chains.current_profile_id not in (select live_ids.profile_id from live_ids)
        and chains.hops < 100
),

resolved as (
    select
        profile_id_ever,
        current_profile_id,
        hops
    from chains
    where current_profile_id in (select live_ids.profile_id from live_ids)
),

final as (
    select
        profile_id as profile_id_ever,
        profile_id,
        0 as merge_hops
    from live_ids
    union all
    select
        profile_id_ever,
        current_profile_id as profile_id,
        hops as merge_hops
    from resolved
)

select * from final
