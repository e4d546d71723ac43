"""idr forget: a person forgotten everywhere (tables, the file's bytes, its WAL, the readers' copy),
everyone else unchanged or resolved again, their events suppressed when they come back, and nights
around a forget equal to one load of everything forgotten at once."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES_DIR, assert_one_line_error, copy_warehouse, held_for_writing, query, run_idr
from event_streams import stream
from test_incremental import canonical, write

from idr import forgetting
from idr.lookup import parse_reference
from idr.publishing import generation_path, reader_path
from idr.warehouse_files import attach_marts, marts_path

JANE = ["janedoe@example.com", "abc123def", "anon_123", "anon_456", "anon_789", "and_1a2b3c4d", "ios_abc123"]
JANE_NAME = "Jane Doe"
# the demo's seed rows of Jane's events, and one rejected row that holds her email
JANE_SEED_ROWS = 13


def warehouse_files(db_path: Path) -> list[Path]:
    """The warehouse, its marts file, their WALs and both published generations (those that exist)."""
    candidates = [db_path, db_path.with_name(db_path.name + ".wal")]
    candidates += [marts_path(db_path), marts_path(db_path).with_name(marts_path(db_path).name + ".wal")]
    for generation in (0, 1):
        path = generation_path(db_path, generation)
        candidates += [path, path.with_name(path.name + ".wal")]
    return [path for path in candidates if path.exists()]


def files_holding(db_path: Path, values: list[str]) -> list[tuple[str, str]]:
    """(file, value) for every value whose bytes (any case) are in one of the warehouse's files."""
    found = []
    for path in warehouse_files(db_path):
        data = path.read_bytes().lower()
        found += [(path.name, value) for value in values if value.lower().encode() in data]
    return found


def tables_holding(db_path: Path, values: list[str]) -> list[tuple[str, str]]:
    """(table, value) for every value found in the text of any row of any table of the warehouse."""
    connection = duckdb.connect(str(db_path), read_only=True)
    try:
        attach_marts(connection, db_path, read_only=True)
        tables = connection.execute(
            "select database_name, schema_name, table_name from duckdb_tables() "
            "where database_name in (current_database(), 'marts')"
        ).fetchall()
        found = []
        for catalog, schema, table in tables:
            for value in values:
                (count,) = connection.execute(
                    f'select count(*) from "{catalog}"."{schema}"."{table}" as t where contains(lower(t::varchar), ?)',
                    [value.lower()],
                ).fetchone() or (0,)
                if count:
                    found.append((f"{schema}.{table}", value))
        return found
    finally:
        connection.close()


def marts_except(db_path: Path, profile_ids: set[str]) -> dict[str, list[tuple]]:
    """The profile marts without the rows of `profile_ids` and without the run-time column batch_started_at."""
    result = {}
    for table in ("profiles", "profile_identifiers", "profile_traits", "profile_events", "profile_id_map"):
        columns = [name for (name,) in query(db_path, f"select column_name from (describe {table})")]
        kept = ", ".join(f'"{name}"' for name in columns if name != "batch_started_at")
        result[table] = sorted(
            query(db_path, f"select {kept} from {table} where not list_contains(?, profile_id)", [sorted(profile_ids)]),
            key=repr,
        )
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def demo_copy(tmp_path: Path, demo_db: Path) -> Path:
    """A copy of the demo warehouse of its own (the readers' copy is written by the forget)."""
    db_path = tmp_path / "identity.duckdb"
    copy_warehouse(demo_db, db_path)
    return db_path


def jane_profile_id(db_path: Path) -> str:
    [(profile_id,)] = query(db_path, "select profile_id from profile_identifiers where identifier_value = 'abc123def'")
    return str(profile_id)


def test_forgetting_jane_leaves_no_byte_of_her_and_every_other_profile_unchanged(demo_copy: Path) -> None:
    jane = jane_profile_id(demo_copy)
    before = marts_except(demo_copy, {jane})
    assert files_holding(demo_copy, JANE)  # the demo holds her, in the tables and in the file

    result = run_idr("forget", "email:  JaneDoe@Example.com ", "--db", demo_copy, "--quiet")

    assert files_holding(demo_copy, [*JANE, JANE_NAME, jane]) == []
    assert tables_holding(demo_copy, [*JANE, JANE_NAME, jane]) == []
    assert not demo_copy.with_name(demo_copy.name + ".wal").exists()
    assert reader_path(demo_copy).exists()
    assert marts_except(demo_copy, set()) == before
    # nothing printed names her, and the audit trail holds hashes and counts only
    for value in [*JANE, jane]:
        assert value not in result.stdout + result.stderr
    [(request_id, hashes, completed_at, profiles_removed, rows_removed)] = query(
        demo_copy,
        "select request_id, identifier_hashes, completed_at, profiles_removed, rows_removed from privacy_requests",
    )
    assert request_id in result.stdout
    assert len(hashes.split(",")) == len(JANE) and all(len(h) == 64 for h in hashes.split(","))
    assert completed_at is not None and profiles_removed == 1
    removed = json.loads(rows_removed)
    assert removed["profile_events"] == 12 and removed["profile_identifiers"] == len(JANE)
    assert sum(count for table, count in removed.items() if table.startswith("main_segment_demo.")) == JANE_SEED_ROWS
    # the marts readers see are the warehouse's
    assert query(reader_path(demo_copy), "select count(*) from profiles") == query(
        demo_copy, "select count(*) from profiles"
    )


def test_her_events_delivered_again_are_suppressed_and_on_no_timeline(demo_copy: Path, tmp_path: Path) -> None:
    run_idr("forget", "user_id:abc123def", "--db", demo_copy, "--quiet")
    # the demo's seeds are loaded again by the next build (her rows are back in the Segment tables), and a
    # file brings her anonymous id and her email once more
    again = write(
        [
            {
                "messageId": "again-1",
                "type": "track",
                "event": "Opened",
                "anonymousId": "anon_123",
                "timestamp": "2024-05-01T10:00:00Z",
            },
            {
                "messageId": "again-2",
                "type": "identify",
                "anonymousId": "new-anon",
                "traits": {"email": "JANEDOE@example.com"},
                "timestamp": "2024-05-01T10:01:00Z",
            },
            {
                "messageId": "again-3",
                "type": "track",
                "event": "Opened",
                "userId": "someone-else",
                "timestamp": "2024-05-01T10:02:00Z",
            },
        ],
        tmp_path / "again.ndjson",
    )
    run_idr("run", "--events", again, "--segment-tables", "seeds", "--db", demo_copy, "--quiet")

    suppressed = query(
        demo_copy,
        "select event_source, raw_text, message_id from rejected_events where rejection_reason = 'suppressed'",
    )
    from_segment = [row for row in suppressed if row[0] == "segment"]
    from_files = [row for row in suppressed if row[0] == "landing"]
    assert len(from_segment) == JANE_SEED_ROWS
    assert len(from_files) == 2 and all(message_id is None for _, _, message_id in from_files)
    assert all(raw_text is None for _, raw_text, _ in suppressed)
    assert query(demo_copy, "select count(*) from landing.raw_events where raw_text like '%anon_123%'") == [(0,)]
    # the build that suppressed them rewrote the file: the lines' text is in none of its bytes (the seed
    # rows are back in the demo's Segment tables, as a sync would bring them back)
    assert files_holding(demo_copy, ["new-anon"]) == []
    values = [*JANE, "new-anon"]
    assert query(
        demo_copy,
        "select count(*) from profile_identifiers where list_contains(?, identifier_value)",
        [values],
    ) == [(0,)]
    assert query(demo_copy, "select count(*) from profile_events where user_id = 'abc123def'") == [(0,)]
    assert query(demo_copy, "select count(*) from profile_identifiers where identifier_value = 'someone-else'") == [
        (1,)
    ]


def test_a_dry_run_counts_by_table_and_changes_nothing(demo_copy: Path) -> None:
    before = sha256(demo_copy)
    result = run_idr("forget", "--dry-run", "anonymous_id:anon_456", "--db", demo_copy)
    assert sha256(demo_copy) == before
    assert "would remove" in result.stdout
    lines = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:] if line.startswith("  ")}
    assert lines["profile_events"] == "12" and lines["profiles"] == "1"
    assert "anon_456" not in result.stdout


def test_requests_from_a_file_and_by_profile_id(demo_copy: Path, tmp_path: Path) -> None:
    jane = jane_profile_id(demo_copy)
    [(ada,)] = query(demo_copy, "select profile_id from profile_identifiers where identifier_value = 'user_0003'")
    requests = tmp_path / "requests.txt"
    requests.write_text(
        f"# this week's requests\n\nprofile:{jane}\nuser_id:user_0003\nemail:not-seen-yet@example.com\n"
    )
    profiles_before = query(demo_copy, "select count(*) from profiles")[0][0]
    run_idr("forget", "--from-file", requests, "--db", demo_copy, "--quiet")
    assert query(demo_copy, "select count(*) from profiles")[0][0] == profiles_before - 2
    assert query(demo_copy, "select count(*) from profiles where list_contains(?, profile_id)", [[jane, ada]]) == [(0,)]
    # the identifier not seen yet is suppressed too: its first event will be rejected
    assert (
        query(demo_copy, "select count(*) from landing.suppressed_identifiers where identifier_type = 'email'")[0][0]
        == 3
    )


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        ((), ("name at least one",)),
        (("jane",), ("TYPE:VALUE",)),
        (("profile:prof_nobody",), ("prof_nobody", "not found")),
        (("--from-file", "/no/such/requests.txt"), ("cannot read the request file",)),
        (("user_id:abc123def", "--target", "spark"), ("DuckDB target only",)),
    ],
)
def test_bad_requests_get_one_line_and_change_nothing(
    demo_copy: Path, arguments: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    before = sha256(demo_copy)
    db = () if "--target" in arguments else ("--db", str(demo_copy))
    result = run_idr("forget", *arguments, *db, expect=2)
    assert_one_line_error(result.stderr, *fragments)
    assert sha256(demo_copy) == before


def test_forgetting_the_first_user_of_a_family_tablet_leaves_the_second_whole(tmp_path: Path) -> None:
    db_path = tmp_path / "tablet.duckdb"
    run_idr("run", "--events", FIXTURES_DIR / "shared_device.ndjson", "--db", db_path, "--quiet")
    [(bob,)] = query(db_path, "select profile_id from profile_identifiers where identifier_value = 'bob'")
    bob_identifiers = set(
        query(db_path, "select identifier_type, identifier_value from profile_identifiers where profile_id = ?", [bob])
    )
    bob_events = set(query(db_path, "select message_id, event_type from profile_events where profile_id = ?", [bob]))
    assert ("ios.id", "ipad-family") not in bob_identifiers  # the tablet is Alice's, its first user

    run_idr("forget", "user_id:alice", "--db", db_path, "--quiet")

    assert query(db_path, "select profile_id from profile_identifiers where identifier_value = 'bob'") == [(bob,)]
    after = set(
        query(db_path, "select identifier_type, identifier_value from profile_identifiers where profile_id = ?", [bob])
    )
    assert bob_identifiers <= after
    assert (
        set(query(db_path, "select message_id, event_type from profile_events where profile_id = ?", [bob]))
        == bob_events
    )
    # Alice's own identifiers and events are gone; the tablet, which Bob's events carry too, stays
    held = {value for (value,) in query(db_path, "select identifier_value from profile_identifiers")}
    assert {"alice", "anon-ipad-1", "alice-iphone", "anon-alice-phone"}.isdisjoint(held)
    assert "ipad-family" in held
    assert files_holding(db_path, ["anon-alice-phone", "alice-iphone"]) == []


def forget_stream(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Random streams, and the events of one more person, every one carrying her userId or one of her
    anonymous ids, over weeks (so that each night brings some of them, late ones included)."""
    events = [event for number in range(60) for event in stream(number, rng, events=rng.randint(1, 25))]
    hers = []
    for index in range(24):
        event: dict = {"messageId": f"gone-m{index}", "type": rng.choice(["track", "page", "identify"]), "context": {}}
        event["timestamp"] = f"2024-01-{1 + index % 28:02d}T{index % 24:02d}:00:00Z"
        if event["type"] == "track":
            event["event"] = "Clicked"
        if rng.random() < 0.5 or index == 0:
            event["userId"] = "gone-user"
        event["anonymousId"] = rng.choice(["gone-anon-1", "gone-anon-2"])
        if event["type"] == "identify":
            event["traits"] = {"email": "gone@example.com", "name": "Gone Person"}
        hers.append(event)
    hers[1].update(userId="gone-user", anonymousId="gone-anon-2")  # both anonymous ids are tied to her early
    hers[0]["anonymousId"] = "gone-anon-1"
    return events, hers


def test_a_forget_between_nights_equals_one_load_forgotten_at_once(tmp_path: Path) -> None:
    rng = random.Random(1717)
    events, hers = forget_stream(rng)
    everything = tmp_path / "all.duckdb"
    run_idr("run", "--events", write(events + hers, tmp_path / "all.ndjson"), "--db", everything, "--quiet")
    run_idr("forget", "user_id:gone-user", "--db", everything, "--quiet")

    mixed = events + hers[2:]
    rng.shuffle(mixed)
    nights = [hers[:2] + mixed[0::4], mixed[1::4], mixed[2::4], mixed[3::4]]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    batched = tmp_path / "batched.duckdb"
    for night, night_events in enumerate(nights):
        write(night_events, inbox / f"night-{night}.ndjson")
        run_idr(
            "nightly",
            "--events",
            inbox,
            "--db",
            batched,
            "--reports",
            tmp_path / "reports",
            "--logs",
            tmp_path,
            "--quiet",
        )
        if night == 1:
            run_idr("forget", "user_id:gone-user", "--db", batched, "--quiet")

    expected, actual = canonical(everything), canonical(batched)
    for table in expected:
        assert actual[table] == expected[table], table
    gone = ["gone-user", "gone-anon-1", "gone-anon-2", "gone@example.com", "gone person"]
    for db_path in (everything, batched):
        assert query(db_path, "select count(*) from rejected_events where rejection_reason = 'suppressed'") == [
            (len(hers),)
        ]
        assert tables_holding(db_path, gone) == []


def test_a_full_refresh_keeps_profile_ids_and_merge_history(tmp_path: Path) -> None:
    """Nights that merge profiles, then a full refresh: the same ids, the same merges, every old id resolved."""
    rng = random.Random(99)
    events = [event for number in range(50) for event in stream(number, rng, events=rng.randint(1, 25))]
    rng.shuffle(events)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db_path = tmp_path / "nights.duckdb"
    for night in range(3):
        write(events[night::3], inbox / f"night-{night}.ndjson")
        run_idr(
            "nightly",
            "--events",
            inbox,
            "--db",
            db_path,
            "--reports",
            tmp_path / "reports",
            "--logs",
            tmp_path,
            "--quiet",
        )
    merges = "select merged_profile_id, profile_id, merged_at from profile_merges order by all"
    ids = "select identifier_type, identifier_value, profile_id from profile_identifiers order by all"
    before_merges, before_ids = query(db_path, merges), query(db_path, ids)
    before_map = query(db_path, "select * from profile_id_map order by all")
    assert before_merges, "the nights should merge some profiles"

    run_idr("run", "--full-refresh", "--db", db_path, "--quiet")

    assert query(db_path, merges) == before_merges
    assert query(db_path, ids) == before_ids
    assert query(db_path, "select * from profile_id_map order by all") == before_map
    assert query(db_path, "select count(*) from duckdb_tables() where table_name like 'idr_%_before_full_refresh'") == [
        (0,)
    ]


def test_someone_never_seen_is_suppressed_without_a_rebuild(demo_copy: Path, tmp_path: Path) -> None:
    """A request about a person whose events have not arrived stores the hashes only; their first events
    are then rejected, and a placeholder value is refused (it names nobody)."""
    result = run_idr("forget", "email:Later@Example.com", "--db", demo_copy)
    assert "no rebuild" in result.stdout
    assert query(demo_copy, "select is_completed, profiles_removed from privacy_requests") == [(True, 0)]
    later = write(
        [
            {
                "messageId": "later-1",
                "type": "identify",
                "userId": "later-user",
                "traits": {"email": "later@example.com"},
                "timestamp": "2024-06-01T10:00:00Z",
            },
            {
                "messageId": "later-2",
                "type": "track",
                "event": "Opened",
                "userId": "later-user",
                "timestamp": "2024-06-01T10:01:00Z",
            },
        ],
        tmp_path / "later.ndjson",
    )
    run_idr("run", "--events", later, "--segment-tables", "seeds", "--db", demo_copy, "--quiet")
    assert query(demo_copy, "select count(*) from rejected_events where rejection_reason = 'suppressed'") == [(1,)]
    assert files_holding(demo_copy, ["later@example.com"]) == []
    # the other event carries only the user id, which nobody asked to forget
    assert query(demo_copy, "select message_id from profile_events where user_id = 'later-user'") == [("later-2",)]

    placeholder = run_idr("forget", "anonymous_id:00000000-0000-0000-0000-000000000000", "--db", demo_copy, expect=2)
    assert_one_line_error(placeholder.stderr, "blocked placeholder value")


def test_a_warehouse_in_use_or_missing_gets_one_line_and_nothing_changes(demo_copy: Path, tmp_path: Path) -> None:
    with held_for_writing(demo_copy):
        busy = run_idr("forget", "user_id:abc123def", "--db", demo_copy, expect=3)
        assert_one_line_error(busy.stderr, "in use by another process")
    assert query(demo_copy, "select count(*) from profile_identifiers where identifier_value = 'abc123def'") == [(1,)]
    missing = tmp_path / "nowhere.duckdb"
    assert_one_line_error(run_idr("forget", "user_id:abc123def", "--db", missing, expect=2).stderr, "no such warehouse")
    assert not missing.exists()


def test_a_request_whose_rebuild_did_not_run_is_finished_by_the_next_night(demo_copy: Path, tmp_path: Path) -> None:
    """As after a rebuild that failed: the request applied, nothing rebuilt; the next nightly run rebuilds,
    rewrites the file, republishes, and names the request in its report."""
    connection = duckdb.connect(str(demo_copy))
    try:
        attach_marts(connection, demo_copy)
        planned = forgetting.plan(connection, [parse_reference("user_id:abc123def")], "landing", "main_segment_demo")
        forgetting.apply(connection, planned, "landing", "main_segment_demo")
    finally:
        connection.close()
    assert query(demo_copy, "select completed_at from landing.privacy_requests") == [(None,)]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    run_idr("nightly", "--events", inbox, "--db", demo_copy, "--reports", tmp_path, "--logs", tmp_path, "--quiet")
    report = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert report["forget_requests_completed"] == [planned.request_id]
    assert query(demo_copy, "select is_completed from privacy_requests") == [(True,)]
    assert files_holding(demo_copy, JANE) == []
    # and the night after has nothing left to finish
    run_idr("nightly", "--events", inbox, "--db", demo_copy, "--reports", tmp_path, "--logs", tmp_path, "--quiet")
    assert json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))["forget_requests_completed"] == []
