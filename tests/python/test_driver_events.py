"""`idr.py run --events` on a messy NDJSON file: every good line loaded, every bad line kept with its reason."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import FIXTURES_DIR, query, run_idr

MESSY = FIXTURES_DIR / "messy_events.ndjson"

# What must become of each line of the fixture (line 6 is blank: not an event).
EXPECTED_BY_LINE = {
    1: None,
    2: None,
    3: "duplicate_message_id",
    4: "invalid_json",
    5: None,
    7: "missing_identity",
    8: "unknown_type",
    9: "invalid_timestamp",
    10: "invalid_json",
    11: None,
    12: None,
    13: "missing_message_id",
    14: "missing_event_name",
    15: None,
    16: "invalid_json",
    17: "invalid_utf8",
}


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db_path = tmp_path_factory.mktemp("messy") / "identity.duckdb"
    result = run_idr("run", "--events", MESSY, "--db", db_path, "--quiet")
    return db_path, result.stdout


def test_every_line_is_loaded_or_rejected_with_its_reason(messy_run: tuple[Path, str]) -> None:
    db_path, _ = messy_run
    rejected = dict(query(db_path, "select source_row, rejection_reason from rejected_events"))
    accepted = query(
        db_path,
        "select e.source_row from int_events_validated as e inner join profile_events as p using (message_id) "
        "where e.rejection_reason is null",
    )
    outcome = {**rejected, **{line: None for (line,) in accepted}}
    assert outcome == EXPECTED_BY_LINE


def test_rejected_rows_keep_their_raw_text_and_file(messy_run: tuple[Path, str]) -> None:
    db_path, _ = messy_run
    lines = MESSY.read_bytes().split(b"\n")
    for source_file, line, raw_text, detail in query(
        db_path, "select source_name, source_row, raw_text, rejection_detail from rejected_events"
    ):
        assert source_file == str(MESSY.resolve())
        assert detail
        if line != 17:  # the invalid UTF-8 line is kept with U+FFFD in place of the bad bytes
            assert raw_text == lines[line - 1].decode()
    [(bad_bytes,)] = query(db_path, "select raw_text from rejected_events where source_row = 17")
    assert "\ufffd" in bad_bytes and '"anon-4"' in bad_bytes


def test_timestamps_with_offsets_are_stored_in_utc(messy_run: tuple[Path, str]) -> None:
    db_path, _ = messy_run
    occurred = dict(query(db_path, "select message_id, occurred_at from profile_events"))
    assert occurred["m-001"] == datetime(2024, 5, 1, 8, 0)  # 10:00+02:00
    assert occurred["m-003"] == datetime(2024, 5, 1, 17, 0)  # 12:00-05:00
    assert occurred["m-007"] == datetime(2024, 5, 1, 23, 45, 0, 250000)  # originalTimestamp 09:15:00.250+09:30


def test_unicode_survives_and_identifiers_are_stitched(messy_run: tuple[Path, str]) -> None:
    db_path, _ = messy_run
    profiles = dict(query(db_path, "select message_id, profile_id from profile_events"))
    assert profiles["m-001"] == profiles["m-002"] == profiles["m-008"]
    assert profiles["m-003"] == profiles["m-007"]
    assert len({profiles["m-001"], profiles["m-003"], profiles["m-010"]}) == 3
    identifiers = set(
        query(
            db_path,
            "select identifier_type, identifier_value from profile_identifiers where profile_id = ?",
            [profiles["m-001"]],
        )
    )
    assert identifiers == {
        ("anonymous_id", "anon-ü-1"),
        ("user_id", "user-ß"),
        ("email", "zoë@example.com"),
        ("email", "zoe@example.com"),
        ("ios.id", "ios-dev-1"),
    }
    assert ("crm_id", "crm-42") in set(
        query(db_path, "select identifier_type, identifier_value from profile_identifiers")
    )
    traits = dict(query(db_path, "select trait, value from profile_traits where profile_id = ?", [profiles["m-001"]]))
    assert traits["name"] == "Zoë Ünal"
    [(properties,)] = query(db_path, "select properties from profile_events where message_id = 'm-002'")
    assert "😀" in properties


def test_the_summary_says_how_many_rows_were_rejected_and_why(messy_run: tuple[Path, str]) -> None:
    _, stdout = messy_run
    rejected = [reason for reason in EXPECTED_BY_LINE.values() if reason]
    assert f"loaded             {len(EXPECTED_BY_LINE)} rows from 1 file(s)" in stdout
    assert f"this load           {len(EXPECTED_BY_LINE) - len(rejected)} accepted, {len(rejected)} rejected" in stdout
    for reason in set(rejected):
        assert f"{rejected.count(reason)}  {reason}" in stdout


def test_load_lands_files_once_and_the_next_build_takes_them(tmp_path: Path) -> None:
    db_path, reports = tmp_path / "identity.duckdb", tmp_path / "reports"
    lines = sum(1 for line in MESSY.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip())
    first = run_idr("load", "--events", MESSY, "--db", db_path)
    assert f"loaded {lines} rows" in first.stdout
    again = run_idr("load", "--events", MESSY, "--db", db_path)
    assert "loaded 0 rows" in again.stdout and "1 file(s) loaded before" in again.stdout
    assert query(db_path, "select count(*) from landing.raw_events") == [(lines,)]
    assert query(db_path, "select count(*) from information_schema.tables where table_name = 'profiles'") == [(0,)]

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / MESSY.name).write_bytes(MESSY.read_bytes())  # a copy: same content, already loaded
    run_idr("nightly", "--events", inbox, "--db", db_path, "--reports", reports, "--quiet")
    accepted = sum(1 for reason in EXPECTED_BY_LINE.values() if reason is None)
    assert query(db_path, "select count(*) from profile_events") == [(accepted,)]
    assert query(db_path, "select count(*) from landing.raw_events") == [(lines,)]
