"""How well the resolved profiles of a warehouse match the true people behind the events.

The truth is a CSV of (message_id, person), as `idr-generate` (idr_tools/generate_events.py) writes it. Two views:

- events: every resolved event (profile_events) with its true person. Pairwise: of all pairs of
  events in one profile, the share that belong to one person (precision); of all pairs of events of
  one person, the share that sit in one profile (recall).
- identifiers: every identifier with the person whose events carry it. An identifier carried by the
  events of several people (a family tablet, a store kiosk) has no single owner: it is counted apart
  and left out of the pairs.

An over-merged profile holds the identifiers of two or more people; a split person has identifiers in
two or more profiles. Over-merged profiles that hold a shared identifier are counted apart, since a
shared device or placeholder is the likely cause. Events whose every identifier is shared (an
anonymous page view on a store kiosk) cannot be told apart by any identifier: they go to the profile
that holds the identifier, as in Segment, and the events view is also given without them.

By assignment reason (profile_events.assignment_reason): how many events each reason decided, and how
many of them sit on their person's main profile (the profile holding most of that person's events).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from idr import warehouse


@dataclass
class Pairwise:
    items: int
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            **asdict(self),
            "precision": round(self.precision, 5),
            "recall": round(self.recall, 5),
            "f1": round(self.f1, 5),
        }


@dataclass
class Accuracy:
    events: Pairwise
    events_with_an_owned_identifier: Pairwise
    identifiers: Pairwise
    people: int
    profiles: int
    events_without_profile: int
    events_only_on_shared_identifiers: int
    shared_identifiers: int
    over_merged_profiles: int
    over_merged_profiles_with_shared_identifier: int
    split_people: int
    # assignment reason -> (events, events on their person's main profile)
    events_by_reason: dict[str, tuple[int, int]]

    def as_dict(self) -> dict[str, object]:
        return {
            **{key: value for key, value in asdict(self).items() if not isinstance(value, dict)},
            "events_by_reason": {
                reason: {"events": events, "on_main_profile": right}
                for reason, (events, right) in self.events_by_reason.items()
            },
            "events": self.events.as_dict(),
            "events_with_an_owned_identifier": self.events_with_an_owned_identifier.as_dict(),
            "identifiers": self.identifiers.as_dict(),
        }


PAIRWISE_SQL = """
with cells as (
    select profile_id, person, count(*) as n from {items} group by profile_id, person
),
profile_sizes as (select sum(n) as n from cells group by profile_id),
person_sizes as (select sum(n) as n from cells group by person)
select
    coalesce((select sum(n) from cells), 0),
    coalesce((select sum(n * (n - 1) // 2) from profile_sizes), 0),
    coalesce((select sum(n * (n - 1) // 2) from person_sizes), 0),
    coalesce((select sum(n * (n - 1) // 2) from cells), 0)
"""


def measure(connection: duckdb.DuckDBPyConnection, truth_csv: Path) -> Accuracy:
    """Compare the warehouse open on `connection` with the truth file."""
    connection.execute(
        "create or replace temp table truth as "
        "select message_id, person from read_csv(?, header = true, columns = "
        "{'message_id': 'varchar', 'person': 'varchar'})",
        [str(truth_csv)],
    )
    connection.execute(
        """
        create or replace temp table resolved_events as
        select events.message_id, events.profile_id, events.assignment_reason, truth.person
        from truth
        inner join main.profile_events as events on truth.message_id = events.message_id
        """
    )
    connection.execute(
        """
        create or replace temp table truth_events as
        select events.event_key, truth.person
        from truth
        inner join main.int_events_validated as events on truth.message_id = events.message_id
        where events.rejection_reason is null
        """
    )
    connection.execute(
        """
        create or replace temp table identifier_owners as
        select
            carried.identifier_key,
            min(truth.person) as person,
            count(distinct truth.person) as people
        from main.int_event_identifiers as carried
        inner join truth_events as truth on carried.event_key = truth.event_key
        group by carried.identifier_key
        """
    )
    connection.execute(
        """
        create or replace temp table resolved_identifiers as
        select stitched.profile_id, owners.person, owners.people > 1 as is_shared
        from identifier_owners as owners
        inner join main.int_identifiers_stitched as stitched on owners.identifier_key = stitched.identifier_key
        """
    )
    connection.execute(
        "create or replace temp table owned_identifiers as "
        "select profile_id, person from resolved_identifiers where not is_shared"
    )
    connection.execute(
        """
        create or replace temp table events_only_on_shared as
        select events.message_id
        from main.int_event_identifiers as carried
        inner join identifier_owners as owners on carried.identifier_key = owners.identifier_key
        inner join main.int_events_validated as events on carried.event_key = events.event_key
        group by events.message_id
        having bool_and(owners.people > 1)
        """
    )

    connection.execute(
        """
        create or replace temp table main_profiles as
        select person, profile_id
        from resolved_events
        group by person, profile_id
        qualify row_number() over (partition by person order by count(*) desc, profile_id) = 1
        """
    )
    by_reason = connection.execute(
        """
        select
            events.assignment_reason,
            count(*),
            count(*) filter (where events.profile_id = main_profiles.profile_id)
        from resolved_events as events
        inner join main_profiles on events.person = main_profiles.person
        group by events.assignment_reason
        order by events.assignment_reason
        """
    ).fetchall()

    def scalar(sql: str) -> int:
        return int(connection.execute(sql).fetchall()[0][0])

    def pairwise(items: str) -> Pairwise:
        row = connection.execute(PAIRWISE_SQL.format(items=items)).fetchall()[0]
        return Pairwise(*(int(value) for value in row))

    over_merged = """
        select profile_id from owned_identifiers group by profile_id having count(distinct person) > 1
    """
    return Accuracy(
        events=pairwise("resolved_events"),
        events_with_an_owned_identifier=pairwise(
            "(select * from resolved_events where message_id not in (select message_id from events_only_on_shared))"
        ),
        identifiers=pairwise("owned_identifiers"),
        people=scalar("select count(distinct person) from truth"),
        profiles=scalar("select count(*) from main.profiles"),
        events_without_profile=scalar("select count(*) from truth") - scalar("select count(*) from resolved_events"),
        events_only_on_shared_identifiers=scalar("select count(*) from events_only_on_shared"),
        shared_identifiers=scalar("select count(*) from identifier_owners where people > 1"),
        over_merged_profiles=scalar(f"select count(*) from ({over_merged})"),
        over_merged_profiles_with_shared_identifier=scalar(
            f"""
            select count(*) from ({over_merged}) as merged
            where merged.profile_id in (select profile_id from resolved_identifiers where is_shared)
            """
        ),
        split_people=scalar(
            "select count(*) from (select person from owned_identifiers "
            "group by person having count(distinct profile_id) > 1)"
        ),
        events_by_reason={reason: (int(events), int(right)) for reason, events, right in by_reason},
    )


def format_accuracy(accuracy: Accuracy) -> str:
    lines = ["| view | items | precision | recall | F1 |", "| --- | --- | --- | --- | --- |"]
    views = (
        ("events", accuracy.events),
        ("events with an owned identifier", accuracy.events_with_an_owned_identifier),
        ("identifiers", accuracy.identifiers),
    )
    for name, pairs in views:
        lines.append(f"| {name} | {pairs.items:,} | {pairs.precision:.4f} | {pairs.recall:.4f} | {pairs.f1:.4f} |")
    lines += [
        "",
        f"people {accuracy.people:,}, profiles {accuracy.profiles:,}, "
        f"events without a profile {accuracy.events_without_profile:,}, "
        f"events whose every identifier is shared {accuracy.events_only_on_shared_identifiers:,}",
        f"over-merged profiles {accuracy.over_merged_profiles:,} "
        f"(holding a shared identifier: {accuracy.over_merged_profiles_with_shared_identifier:,}), "
        f"split people {accuracy.split_people:,}, shared identifiers {accuracy.shared_identifiers:,}",
        "",
        "| assignment reason | events | on their person's main profile |",
        "| --- | --- | --- |",
    ]
    for reason, (events, right) in accuracy.events_by_reason.items():
        lines.append(f"| {reason} | {events:,} | {right:,} ({right / events:.2%}) |")
    return "\n".join(lines)


def main() -> int:
    """`idr-accuracy --db WAREHOUSE --truth truth.csv [--json out.json]`: prints pairwise precision, recall
    and F1 over events and over identifiers, the over-merged profiles and the split people."""
    parser = argparse.ArgumentParser(
        prog="idr-accuracy", description=main.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, required=True, help="the resolved DuckDB warehouse")
    parser.add_argument("--truth", type=Path, required=True, help="truth.csv (message_id, person)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if not args.truth.is_file():
        print(f"accuracy: {args.truth}: no such file", file=sys.stderr)
        return 2
    try:
        connection = warehouse.connect(args.db.resolve(), read_only=True)
    except warehouse.WarehouseMissingError as error:
        print(f"accuracy: {error}", file=sys.stderr)
        return 2
    try:
        accuracy = measure(connection, args.truth)
    finally:
        connection.close()
    print(format_accuracy(accuracy))
    if args.json:
        args.json.write_text(json.dumps(accuracy.as_dict(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
