"""Nightly batches give the same answer as one load of everything, late events included; profile ids
stay stable, merges are recorded and every id ever handed out resolves."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import query, readers_differences, run_idr
from event_streams import stream

BATCHES = 4


def write(events: list[dict], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    return path


def canonical(db_path: Path) -> dict[str, object]:
    """The marts with each profile named by its set of identifiers instead of its id."""
    members: dict[str, list[str]] = {}
    for profile_id, identifier_type, value in query(
        db_path, "select profile_id, identifier_type, identifier_value from profile_identifiers"
    ):
        members.setdefault(profile_id, []).append(f"{identifier_type}:{value}")
    name = {profile_id: "|".join(sorted(values)) for profile_id, values in members.items()}
    identifiers = sorted(
        (name[p], *rest)
        for p, *rest in query(
            db_path,
            "select profile_id, identifier_type, identifier_value, first_seen_at, last_seen_at, event_count "
            "from profile_identifiers",
        )
    )
    events = sorted(
        (name[p], *rest)
        for p, *rest in query(
            db_path,
            "select profile_id, * exclude (profile_id, batch_started_at, source_name) from profile_events",
        )
    )
    traits = sorted(
        (name[p], *rest)
        for p, *rest in query(
            db_path, "select profile_id, * exclude (profile_id, batch_started_at) from profile_traits"
        )
    )
    profiles = sorted(
        (name[p], *rest)
        for p, *rest in query(
            db_path,
            "select profile_id, * exclude (profile_id, batch_started_at) from profiles",
        )
    )
    edges = sorted(
        (name[a], name[b], *rest)
        for a, b, *rest in query(
            db_path,
            "select profile_a_id, profile_b_id, * exclude (profile_a_id, profile_b_id, batch_started_at) "
            "from identity_edges",
        )
    )
    return {"identifiers": identifiers, "events": events, "traits": traits, "profiles": profiles, "edges": edges}


@dataclass
class BatchRuns:
    everything: Path  # one load of every event
    batched: Path  # the same events over BATCHES nights
    ids_after_each_night: list[list[str]]
    published_after_each_night: list[dict]  # the nightly report's "published"
    readers_differences_after_each_night: list[dict[str, int]]


@pytest.fixture(scope="module")
def batch_runs(tmp_path_factory: pytest.TempPathFactory) -> BatchRuns:
    rng = random.Random(4242)
    events = [event for number in range(120) for event in stream(number, rng, events=rng.randint(1, 30))]
    folder = tmp_path_factory.mktemp("batches")
    everything = folder / "all.duckdb"
    run_idr("run", "--events", write(events, folder / "all.ndjson"), "--db", everything, "--quiet")

    rng.shuffle(events)  # batches in random order: later nights bring older events
    inbox = folder / "inbox"
    inbox.mkdir()
    batched = folder / "batched.duckdb"
    runs = BatchRuns(everything, batched, [], [], [])
    for night in range(BATCHES):
        write(events[night::BATCHES], inbox / f"night-{night}.ndjson")
        run_idr("nightly", "--events", inbox, "--db", batched, "--reports", folder / "reports", "--quiet")
        runs.ids_after_each_night.append([p for (p,) in query(batched, "select distinct profile_id from profiles")])
        report = json.loads((folder / "reports" / "latest.json").read_text(encoding="utf-8"))
        runs.published_after_each_night.append(report["published"])
        runs.readers_differences_after_each_night.append(readers_differences(batched))
    return runs


def test_batches_give_the_same_profiles_timelines_and_traits(batch_runs: BatchRuns) -> None:
    everything, batched = batch_runs.everything, batch_runs.batched
    expected, actual = canonical(everything), canonical(batched)
    for table in expected:
        assert actual[table] == expected[table], table


def test_every_id_ever_handed_out_resolves_to_a_current_profile(batch_runs: BatchRuns) -> None:
    batched, ids_after_each_night = batch_runs.batched, batch_runs.ids_after_each_night
    mapping = dict(query(batched, "select profile_id_ever, profile_id from profile_id_map"))
    current = {p for (p,) in query(batched, "select profile_id from profiles")}
    for night_ids in ids_after_each_night:
        for profile_id in night_ids:
            assert mapping.get(profile_id) in current, profile_id
    merges = query(batched, "select merged_profile_id, profile_id from profile_merges")
    assert merges, "the random nights should merge some profiles"
    for merged, _ in merges:
        assert mapping[merged] != merged or merged in current


def test_profile_ids_survive_later_nights(batch_runs: BatchRuns) -> None:
    """An id, once given, stays in use unless its profile merged into an older one (then it is recorded)."""
    batched, ids_after_each_night = batch_runs.batched, batch_runs.ids_after_each_night
    current = {p for (p,) in query(batched, "select profile_id from profiles")}
    merged = {p for (p,) in query(batched, "select merged_profile_id from profile_merges")}
    for night_ids in ids_after_each_night:
        assert set(night_ids) <= current | merged
    assert len(set(ids_after_each_night[0]) & current) > len(ids_after_each_night[0]) // 2


def test_readers_see_exactly_the_marts_after_every_night(batch_runs: BatchRuns) -> None:
    """The published copy equals the warehouse's marts after each night (a copy of the marts file into
    the generation readers are not sent to, alternating)."""
    marts = {"profiles", "profile_identifiers", "profile_events", "profile_traits", "profile_merges", "identity_edges"}
    for night, differences in enumerate(batch_runs.readers_differences_after_each_night):
        assert marts <= set(differences), night
        assert set(differences.values()) == {0}, (night, differences)
    assert all(marts <= set(published["copied"]) for published in batch_runs.published_after_each_night)
    assert [Path(p["generation"]).name for p in batch_runs.published_after_each_night] == [
        f".batched.readers.{night % 2}.duckdb" for night in range(BATCHES)
    ]


def assert_event_keys_are_unique_and_joined(db_path: Path) -> None:
    (rows, keys, nulls), *_ = query(
        db_path, "select count(*), count(distinct event_key), count(*) - count(event_key) from int_events_validated"
    )
    assert (keys, nulls) == (rows, 0)
    (unjoined,), *_ = query(
        db_path,
        "select count(*) from int_event_identifiers where event_key not in "
        "(select event_key from int_events_validated where rejection_reason is null)",
    )
    assert unjoined == 0
    (misassigned,), *_ = query(
        db_path,
        "select count(*) from int_events_assigned as assigned "
        "left join int_events_validated as events on assigned.event_key = events.event_key "
        "where events.rejection_reason is not null or events.event_key is null",
    )
    assert misassigned == 0


def test_event_keys_stay_unique_over_nights(batch_runs: BatchRuns) -> None:
    everything, batched = batch_runs.everything, batch_runs.batched
    for db_path in (everything, batched):
        assert_event_keys_are_unique_and_joined(db_path)


def test_event_keys_of_files_and_warehouse_tables_do_not_collide(tmp_path: Path) -> None:
    """Landing rows and Segment warehouse-table rows are numbered apart, night after night."""
    rng = random.Random(77)
    db_path = tmp_path / "mixed.duckdb"
    for night in range(2):
        events = [event for number in range(10) for event in stream(100 * night + number, rng, events=5)]
        path = write(events, tmp_path / f"night-{night}.ndjson")
        run_idr("run", "--events", path, "--segment-tables", "seeds", "--db", db_path, "--quiet")
    assert_event_keys_are_unique_and_joined(db_path)
    sources = dict(query(db_path, "select event_source, count(*) from int_events_validated group by all"))
    assert sources.get("landing", 0) > 0 and sources.get("segment", 0) > 0
