"""`idr.py nightly` and `idr.py schedule`: idempotent loads, run reports, one run at a time, recovery
from a run killed half-way."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import FIXTURES_DIR, IDR, PROJECT_DIR, query, run_idr

TABLES = ["profiles", "profile_identifiers", "profile_events", "profile_traits", "rejected_events"]


def nightly(
    events: Path, db_path: Path, reports: Path, *extra: str, expect: int | None = 0
) -> subprocess.CompletedProcess[str]:
    return run_idr(
        "nightly",
        "--events",
        events,
        "--db",
        db_path,
        "--reports",
        reports,
        "--logs",
        reports / "logs",
        *extra,
        expect=expect,
    )


def snapshot(db_path: Path) -> dict[str, list[tuple]]:
    return {
        "identifiers": query(
            db_path, "select profile_id, identifier_type, identifier_value from profile_identifiers order by all"
        ),
        "events": query(db_path, "select profile_id, message_id, timeline_position from profile_events order by all"),
    }


def test_a_folder_loaded_twice_adds_nothing_and_each_run_leaves_a_report(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(FIXTURES_DIR / "shared_device.ndjson", inbox / "day1.ndjson")
    db_path, reports = tmp_path / "identity.duckdb", tmp_path / "reports"
    first = nightly(inbox, db_path, reports, "--quiet")
    shutil.copy(FIXTURES_DIR / "shared_device.ndjson", inbox / "day1-copy.ndjson")  # same content, new name
    os.utime(inbox / "day1.ndjson", ns=(1, 1))  # touched: the content decides, not the time
    second = nightly(inbox, db_path, reports, "--quiet")
    assert "loaded              9 rows from 1 file(s)" in first.stdout
    assert "skipped             2 file(s) loaded before" in second.stdout
    assert query(db_path, "select count(*) from landing.raw_events") == [(9,)]
    assert query(db_path, "select count(*), sum(row_count) from landing.loaded_files") == [(1, 9)]
    latest = json.loads((reports / "latest.json").read_text())
    assert latest["status"] == "succeeded"
    assert latest["load"]["files"] == 0 and len(latest["load"]["skipped_files"]) == 2
    assert latest["warehouse_counts"]["profiles"] == 3
    assert latest["dbt"]["node_statuses"]["pass"] > 0 and not latest["dbt"]["failures"]
    assert len(list(reports.glob("2*.json"))) == 2
    assert list((reports / "logs").glob("*/dbt.log"))


def test_a_failed_build_is_reported_and_exits_non_zero(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    reports = tmp_path / "reports"
    result = nightly(inbox, tmp_path / "db.duckdb", reports, "--segment-tables", "source", "--quiet", expect=1)
    assert "dbt build failed" in result.stderr
    latest = json.loads((reports / "latest.json").read_text())
    assert latest["status"] == "failed" and "dbt build failed" in latest["error"]


def test_a_second_nightly_exits_at_once_while_one_runs(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db_path, reports = tmp_path / "db.duckdb", tmp_path / "reports"
    with (tmp_path / "db.duckdb.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        started = time.monotonic()
        result = nightly(inbox, db_path, reports, expect=3)
        assert time.monotonic() - started < 30
    assert "already running" in result.stderr
    assert not reports.exists()


def test_a_run_killed_mid_build_leaves_readable_tables_and_the_next_run_completes(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db_path, reports = tmp_path / "identity.duckdb", tmp_path / "reports"
    shutil.copy(FIXTURES_DIR / "shared_device.ndjson", inbox / "day1.ndjson")
    nightly(inbox, db_path, reports, "--quiet")

    shutil.copy(FIXTURES_DIR / "messy_events.ndjson", inbox / "day2.ndjson")
    command = [
        sys.executable,
        *IDR,
        "nightly",
        "--events",
        str(inbox),
        "--db",
        str(db_path),
        "--reports",
        str(reports),
        "--logs",
        str(reports / "logs"),
    ]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "START sql table model" in line:  # dbt is rebuilding the tables
            break
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    for table in TABLES:  # every table can still be read, and the profiles are still there
        [(rows,)] = query(db_path, f"select count(*) from {table}")
        assert rows > 0 or table == "rejected_events"  # the first night had no rejected rows

    nightly(inbox, db_path, reports, "--quiet")
    fresh = tmp_path / "fresh.duckdb"
    nightly(inbox, fresh, tmp_path / "fresh-reports", "--quiet")
    assert snapshot(db_path) == snapshot(fresh)
    assert query(db_path, "select count(*) from landing.loaded_files") == [(2,)]


def test_schedule_prints_and_installs_a_crontab_entry(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    printed = run_idr("schedule", "--at", "02:30", "--events", tmp_path / "inbox", "--db", tmp_path / "w.duckdb")
    line = printed.stdout.strip()
    assert line.startswith("30 2 * * * cd ")
    assert "python -m idr nightly --events" in line and str(tmp_path / "w.duckdb") in line
    assert run_idr("schedule", "--at", "25:00", "--events", tmp_path, expect=2).stderr.startswith("idr: --at wants")

    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    store = tmp_path / "crontab.txt"
    store.write_text("0 1 * * * backup.sh\n")
    (fake_bin / "crontab").write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {store}; else cat > {store}; fi\n')
    (fake_bin / "crontab").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    for _ in range(2):  # installing twice keeps one entry
        subprocess.run(
            [
                sys.executable,
                *IDR,
                "schedule",
                "--at",
                "02:30",
                "--events",
                str(tmp_path / "inbox"),
                "--db",
                str(tmp_path / "w.duckdb"),
                "--install",
            ],
            cwd=PROJECT_DIR,
            env=env,
            check=True,
            capture_output=True,
        )
    assert store.read_text().splitlines() == ["0 1 * * * backup.sh", line]


def test_a_scheduled_spark_night_names_the_spark_warehouse(tmp_path: Path) -> None:
    spark_dir = tmp_path / "spark"
    (tmp_path / "inbox").mkdir()
    args = ("schedule", "--at", "03:15", "--events", tmp_path / "inbox", "--target", "spark", "--spark-dir", spark_dir)
    line = run_idr(*args).stdout.strip()
    assert line.startswith("15 3 * * * cd ")
    assert f"--target spark --spark-dir {spark_dir} >>" in line and "--db" not in line


def event(message_id: str, timestamp: str, anonymous_id: str, user_id: str | None = None) -> str:
    fields = {"messageId": message_id, "type": "track", "event": "Viewed", "anonymousId": anonymous_id}
    fields |= {"userId": user_id} if user_id else {}
    return json.dumps({**fields, "timestamp": timestamp}) + "\n"


def test_a_merge_is_recorded_even_when_the_run_that_made_it_stopped_after_stitching(tmp_path: Path) -> None:
    from idr import loading, warehouse

    inbox, db_path, reports = tmp_path / "inbox", tmp_path / "identity.duckdb", tmp_path / "reports"
    inbox.mkdir()
    (inbox / "night1.ndjson").write_text(
        event("m1", "2024-01-01T00:00:00Z", "a-old") + event("m2", "2024-01-02T00:00:00Z", "a-new", "u1")
    )
    nightly(inbox, db_path, reports, "--quiet")
    [(older,)] = query(db_path, "select profile_id from profile_identifiers where identifier_value = 'a-old'")
    [(younger,)] = query(db_path, "select profile_id from profile_identifiers where identifier_value = 'u1'")
    assert older != younger

    # night 2 links the two profiles, but its run stops right after the stitching (killed, say)
    night2 = inbox / "night2.ndjson"
    night2.write_text(event("m3", "2024-01-03T00:00:00Z", "a-old", "u1"))
    connection = warehouse.connect(db_path)
    try:
        loading.load_files(connection, "landing", "night2", [night2], tmp_path)
    finally:
        connection.close()
    dbt = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "run",
            "--select",
            "+int_identifiers_stitched",
            "--vars",
            "{idr_segment_tables: none}",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "IDR_DB_PATH": str(db_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert dbt.returncode == 0, dbt.stdout
    assert query(db_path, "select count(*) from profile_merges") == [(0,)]

    # night 3 touches the same profile again; the merge of night 2 is recorded all the same
    (inbox / "night3.ndjson").write_text(event("m4", "2024-01-04T00:00:00Z", "a-old"))
    nightly(inbox, db_path, reports, "--quiet")
    assert query(db_path, "select merged_profile_id, profile_id from profile_merges") == [(younger, older)]
    assert query(db_path, "select profile_id from profile_id_map where profile_id_ever = ?", [younger]) == [(older,)]
    assert query(db_path, "select count(distinct profile_id), count(*) from profile_events") == [(1, 4)]
