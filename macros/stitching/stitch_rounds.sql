{#- One round of the merge-protection rounds of identity_stitch: from `state` (the pending links and
    the limit counts of the groups they join, as idr_stitch_round_rows writes them) to the next state,
    plus a 'merge' row (label_a: the group, label_b: its new label) for every group merged. DuckDB runs
    it in a recursive CTE, Spark in a loop (identity_stitch). -#}
{% macro idr_stitch_round(state) -%}
    {{ idr_steps_as_query(idr_stitch_round_steps(state)) }}
{%- endmacro %}

{% macro idr_stitch_round_steps(state) -%}
    {%- set steps = [] -%}
    {#- the round's input: the pending links and the limit counts of the groups they join -#}
    {%- call idr_step(steps, 'state', materialized=true, scan_only=true) %}
    select * from {{ state }}
    {%- endcall %}
    {%- call idr_step(steps, 'live_links', materialized=true, scan_only=true) %}
    select label_a, label_b, link_rank from state where row_kind = 'link'
    {%- endcall %}
    {%- call idr_step(steps, 'group_counts', materialized=true, scan_only=true) %}
    select
        label_a as label,
        identifier_type,
        limit_window_start_at,
        identifier_limit,
        identifier_count
    from state
    where row_kind = 'count'
    {%- endcall %}
    {#- refused links: a pending link whose two groups together would break a limit (idr_breaks_limit) -#}
    {%- call idr_step(steps, 'link_counts', materialized=false) %}
    select
        link_rank,
        identifier_type,
        limit_window_start_at,
        identifier_limit,
        sum(identifier_count) as identifier_count
    from (
        select
            live_links.link_rank,
            group_counts.identifier_type,
            group_counts.limit_window_start_at,
            group_counts.identifier_limit,
            group_counts.identifier_count
        from live_links inner join group_counts on live_links.label_a = group_counts.label
        union all
        select
            live_links.link_rank,
            group_counts.identifier_type,
            group_counts.limit_window_start_at,
            group_counts.identifier_limit,
            group_counts.identifier_count
        from live_links inner join group_counts on live_links.label_b = group_counts.label
    ) as both_groups
    group by all
    {%- endcall %}
    {%- call idr_step(steps, 'refused_links', materialized=false) %}
    select distinct link_rank from link_counts where {{ idr_breaks_limit('identifier_count', 'identifier_limit') }}
    {%- endcall %}
    {%- call idr_step(steps, 'candidate_links', materialized=true) %}
    select * from live_links
    where link_rank not in (select refused_links.link_rank from refused_links)
    {%- endcall %}
    {#- mutual links: a link that is the first pending link of both its groups merges them -#}
    {%- call idr_step(steps, 'incidence', materialized=true, scan_only=true) %}
    select link_rank, label_a as group_label, label_b as neighbour_label from candidate_links
    union all
    select link_rank, label_b as group_label, label_a as neighbour_label from candidate_links
    {%- endcall %}
    {%- call idr_step(steps, 'group_fronts', materialized=true) %}
    select
        group_label,
        min(link_rank) as first_rank,
        count(distinct neighbour_label) as neighbour_count
    from incidence
    group by group_label
    {%- endcall %}
    {%- call idr_step(steps, 'mutual_links', materialized=true) %}
    select candidate_links.*
    from candidate_links
    inner join group_fronts as fronts_a
        on candidate_links.label_a = fronts_a.group_label and candidate_links.link_rank = fronts_a.first_rank
    inner join group_fronts as fronts_b
        on candidate_links.label_b = fronts_b.group_label and candidate_links.link_rank = fronts_b.first_rank
    {%- endcall %}
    {#- stars: a group (hub) takes, in link order, its satellites (neighbours with no other pending link)
        before its first link to a non-satellite, up to the first that would break a limit -#}
    {%- call idr_step(steps, 'hub_links', materialized=true) %}
    select
        incidence.group_label as hub_label,
        incidence.neighbour_label as satellite_label,
        incidence.link_rank,
        group_fronts.neighbour_count = 1 as is_satellite
    from incidence
    inner join group_fronts on incidence.neighbour_label = group_fronts.group_label
    {%- endcall %}
    {%- call idr_step(steps, 'hub_stops', materialized=false) %}
    select hub_label, min(link_rank) as stop_rank
    from hub_links
    where not is_satellite
    group by hub_label
    {%- endcall %}
    {%- call idr_step(steps, 'star_links', materialized=true) %}
    select hub_links.hub_label, hub_links.satellite_label, min(hub_links.link_rank) as link_rank
    from hub_links
    left join hub_stops on hub_links.hub_label = hub_stops.hub_label
    where hub_links.is_satellite and (hub_stops.stop_rank is null or hub_links.link_rank < hub_stops.stop_rank)
    group by hub_links.hub_label, hub_links.satellite_label
    {%- endcall %}
    {%- call idr_step(steps, 'star_running_counts', materialized=false) %}
    select
        star_links.hub_label,
        star_links.link_rank,
        group_counts.identifier_type,
        group_counts.limit_window_start_at,
        group_counts.identifier_limit,
        sum(group_counts.identifier_count) over (
            partition by star_links.hub_label, group_counts.identifier_type, group_counts.limit_window_start_at
            order by star_links.link_rank
            rows between unbounded preceding and current row
        ) as satellites_count
    from star_links
    inner join group_counts on star_links.satellite_label = group_counts.label
    {%- endcall %}
    {%- call idr_step(steps, 'star_breaks', materialized=true) %}
    select running.hub_label, min(running.link_rank) as break_rank
    from star_running_counts as running
    left join group_counts as hub_counts
        on
            running.hub_label = hub_counts.label
            and running.identifier_type = hub_counts.identifier_type
            and running.limit_window_start_at is not distinct from hub_counts.limit_window_start_at
    where {{ idr_breaks_limit('running.satellites_count + coalesce(hub_counts.identifier_count, 0)', 'running.identifier_limit') }}
    group by running.hub_label
    {%- endcall %}
    {%- call idr_step(steps, 'star_merges', materialized=true) %}
    select star_links.*
    from star_links
    left join star_breaks on star_links.hub_label = star_breaks.hub_label
    where star_breaks.break_rank is null or star_links.link_rank < star_breaks.break_rank
    {%- endcall %}
    {#- new labels: every merged group takes the smallest label within two hops of its merges -#}
    {%- call idr_step(steps, 'merge_pairs', materialized=true, scan_only=true) %}
    select label_a as group_label, label_b as partner_label from mutual_links
    union all
    select label_b as group_label, label_a as partner_label from mutual_links
    union all
    select hub_label as group_label, satellite_label as partner_label from star_merges
    union all
    select satellite_label as group_label, hub_label as partner_label from star_merges
    {%- endcall %}
    {%- call idr_step(steps, 'first_hop', materialized=true) %}
    select group_label, least(group_label, min(partner_label)) as merged_label
    from merge_pairs
    group by group_label
    {%- endcall %}
    {%- call idr_step(steps, 'new_labels', materialized=true) %}
    select first_hop.group_label, least(first_hop.merged_label, min(partner_hop.merged_label)) as merged_label
    from first_hop
    inner join merge_pairs on first_hop.group_label = merge_pairs.group_label
    inner join first_hop as partner_hop on merge_pairs.partner_label = partner_hop.group_label
    group by first_hop.group_label, first_hop.merged_label
    having least(first_hop.merged_label, min(partner_hop.merged_label)) <> first_hop.group_label
    {%- endcall %}
    {#- the next state: the links not decided yet, relabelled, and the merged groups' counts -#}
    {%- call idr_step(steps, 'decided_links', materialized=false) %}
    select link_rank from mutual_links
    union all
    select link_rank from star_merges
    union all
    select break_rank as link_rank from star_breaks
    {%- endcall %}
    {%- call idr_step(steps, 'next_links', materialized=true) %}
-- the links still pending, between the groups as they are now; of several links between
-- the same two groups only the first matters (the later ones follow its fate)
    select
        least(moved.label_a, moved.label_b) as label_a,
        greatest(moved.label_a, moved.label_b) as label_b,
        min(moved.link_rank) as link_rank
    from (
        select
            coalesce(new_labels_a.merged_label, candidate_links.label_a) as label_a,
            coalesce(new_labels_b.merged_label, candidate_links.label_b) as label_b,
            candidate_links.link_rank
        from candidate_links
        left join new_labels as new_labels_a on candidate_links.label_a = new_labels_a.group_label
        left join new_labels as new_labels_b on candidate_links.label_b = new_labels_b.group_label
        where candidate_links.link_rank not in (select decided_links.link_rank from decided_links)
    ) as moved
    where moved.label_a <> moved.label_b
    group by all
    {%- endcall %}
    {%- call idr_step(steps, 'next_counts', materialized=false) %}
    select
        coalesce(new_labels.merged_label, group_counts.label) as label,
        group_counts.identifier_type,
        group_counts.limit_window_start_at,
        group_counts.identifier_limit,
        sum(group_counts.identifier_count) as identifier_count
    from group_counts
    left join new_labels on group_counts.label = new_labels.group_label
    group by all
    {%- endcall %}
    {%- call idr_step(steps, none, materialized=false) %}
    {{ idr_stitch_round_rows('next_links', 'next_counts') }}
    union all
    select
        'merge' as row_kind,
        group_label as label_a,
        merged_label as label_b,
        cast(null as bigint) as link_rank,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_timestamp() }}) as limit_window_start_at,
        cast(null as {{ dbt.type_int() }}) as identifier_limit,
        cast(null as bigint) as identifier_count
    from new_labels
    {%- endcall %}
    {{ return(steps) }}
{%- endmacro %}

{#- The state a round of duckdb__identity_stitch hands to the next: the pending links (label_a,
    label_b, link_rank) and the limit counts (label, identifier_type, limit_window_start_at,
    identifier_limit, identifier_count) of the groups they join. -#}
{% macro idr_stitch_round_rows(links, counts) -%}
    select
        'link' as row_kind,
        label_a,
        label_b,
        link_rank,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_timestamp() }}) as limit_window_start_at,
        cast(null as {{ dbt.type_int() }}) as identifier_limit,
        cast(null as bigint) as identifier_count
    from {{ links }}
    union all
    select
        'count' as row_kind,
        label as label_a,
        cast(null as bigint) as label_b,
        cast(null as bigint) as link_rank,
        identifier_type,
        limit_window_start_at,
        identifier_limit,
        identifier_count
    from {{ counts }}
    where
        label in (select {{ links }}.label_a from {{ links }})
        or label in (select {{ links }}.label_b from {{ links }})
{%- endmacro %}
