-- Merge protection holds: no profile has more identifiers of a type (in one limit window) than its limit.
select
    profile_id,
    identifier_type,
    limit_window_start_at,
    identifier_limit,
    count(*) as identifier_count
from {{ ref('int_identifiers_stitched') }}
group by profile_id, identifier_type, limit_window_start_at, identifier_limit
having {{ idr_breaks_limit('count(*)', 'identifier_limit') }}
