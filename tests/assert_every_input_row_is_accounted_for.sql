-- No input row is dropped silently: every staged row is either on a timeline or rejected with a reason.
with validated as (
    select count(*) as row_count from {{ ref('int_events_validated') }}
),

timeline as (
    select count(*) as row_count from {{ ref('profile_events') }}
),

rejected as (
    select count(*) as row_count from {{ ref('rejected_events') }}
)

select
    validated.row_count as staged_rows,
    timeline.row_count as timeline_rows,
    rejected.row_count as rejected_rows
from validated
cross join timeline
cross join rejected
where validated.row_count <> timeline.row_count + rejected.row_count
