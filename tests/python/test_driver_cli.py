"""The driver's failures: one clear line on stderr and a distinct exit code, never a stack trace."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES_DIR, IDR, PROJECT_DIR, assert_one_line_error, run_idr


def test_a_missing_events_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_idr("run", "--events", tmp_path / "nope.ndjson", "--db", tmp_path / "db.duckdb", expect=2)
    assert_one_line_error(result.stderr, "nope.ndjson", "no such file or directory")
    assert not (tmp_path / "db.duckdb").exists()


def test_report_on_a_warehouse_that_was_never_built(tmp_path: Path) -> None:
    result = run_idr("report", "--db", tmp_path / "never.duckdb", expect=2)
    assert_one_line_error(result.stderr, "does not exist yet")


def test_a_second_run_while_one_is_running_exits_at_once(tmp_path: Path) -> None:
    db_path = tmp_path / "busy.duckdb"
    with (tmp_path / "busy.duckdb.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_idr("run", "--db", db_path, "--events", FIXTURES_DIR / "messy_events.ndjson", expect=3)
    assert_one_line_error(result.stderr, "already running")
    assert not db_path.exists()


def test_a_warehouse_held_open_by_another_program_is_reported(tmp_path: Path) -> None:
    db_path = tmp_path / "held.duckdb"
    holder = duckdb.connect(str(db_path))
    try:
        result = run_idr("run", "--db", db_path, expect=3, in_process=False)  # the holder is this process
    finally:
        holder.close()
    assert_one_line_error(result.stderr, "in use by another process")


def test_a_failing_build_exits_1_with_the_reason(tmp_path: Path) -> None:
    # `source` reads Segment tables from your warehouse schema; this fresh file has none.
    result = run_idr("run", "--db", tmp_path / "db.duckdb", "--segment-tables", "source", "--quiet", expect=1)
    assert result.stderr.strip().splitlines()[-1].startswith("idr: dbt build failed: ")
    assert "segment" in result.stderr.strip().splitlines()[-1]


def test_a_second_spark_run_while_one_is_running_exits_at_once(tmp_path: Path) -> None:
    spark_dir = tmp_path / "spark"
    spark_dir.mkdir()
    with (spark_dir / "warehouse.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_idr("run", "--target", "spark", "--spark-dir", spark_dir, expect=3)
    assert_one_line_error(result.stderr, "already running", str(spark_dir))
    assert [path.name for path in spark_dir.iterdir()] == ["warehouse.lock"]


def test_options_of_the_other_target_are_usage_errors(tmp_path: Path) -> None:
    result = run_idr("run", "--target", "spark", "--db", tmp_path / "db.duckdb", expect=2)
    assert_one_line_error(result.stderr, "--db", "--spark-dir")
    result = run_idr("report", "--spark-dir", tmp_path / "spark", expect=2)
    assert_one_line_error(result.stderr, "--spark-dir", "--target spark")
    assert not list(tmp_path.iterdir())


def test_report_on_a_spark_warehouse_that_was_never_built(tmp_path: Path) -> None:
    result = run_idr("report", "--target", "spark", "--spark-dir", tmp_path / "never", expect=2)
    assert_one_line_error(result.stderr, "holds no Spark warehouse yet")


def test_a_warehouse_folder_that_cannot_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    """A file where the folder should be fails as a read-only folder does (an OSError on creating a
    file in it), and unlike a read-only folder it does so for root too."""
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    result = run_idr("run", "--db", blocked / "w.duckdb", expect=2)
    assert_one_line_error(result.stderr, "cannot write in", str(blocked), "warehouse")


def test_a_read_only_reports_folder_stops_the_night_before_it_builds(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.write_text("a file where the folder should be")
    (tmp_path / "inbox").mkdir()
    args = ("nightly", "--events", tmp_path / "inbox", "--db", tmp_path / "w.duckdb", "--reports", reports)
    result = run_idr(*args, "--logs", tmp_path / "logs", expect=2)
    assert_one_line_error(result.stderr, "cannot write in", "run reports")
    assert not (tmp_path / "w.duckdb").exists()


def test_a_night_without_its_folder_writes_a_failed_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    args = ("nightly", "--events", tmp_path / "missing", "--db", tmp_path / "w.duckdb", "--reports", reports)
    result = run_idr(*args, "--logs", tmp_path / "logs", expect=2)
    assert_one_line_error(result.stderr, "no such directory")
    latest = json.loads((reports / "latest.json").read_text())
    assert latest["status"] == "failed" and "no such directory" in latest["error"]


def test_schedule_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = run_idr(
        "schedule", "--at", "02:30", "--events", tmp_path / "nope", "--db", tmp_path / "w.duckdb", expect=2
    )
    assert_one_line_error(result.stderr, "no such directory")


def test_a_report_read_by_a_closed_pipe_ends_quietly(demo_db: Path) -> None:
    """`idr.py report | head -1`, with the reader gone before the report is written (always, here: the
    pipe's only reader is closed at once, while the driver still starts)."""
    process = subprocess.Popen(
        [sys.executable, *IDR, "report", "--db", str(demo_db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_DIR,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait() == 0 and stderr == ""


def test_a_reader_arriving_before_the_build_is_reported_as_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reader opens the file after the driver's first check (here: the first check is skipped)."""
    from idr import cli, targets

    db_path = tmp_path / "w.duckdb"
    events = tmp_path / "e.ndjson"
    events.write_bytes(FIXTURES_DIR.joinpath("messy_events.ndjson").read_bytes())
    run_idr("load", "--events", events, "--db", db_path)
    real_check = targets.DuckDBTarget.check_writable
    checks: list[object] = []

    def check_after_the_first(self: targets.DuckDBTarget) -> None:
        checks.append(self)
        if len(checks) > 1:
            real_check(self)

    monkeypatch.setattr(targets.DuckDBTarget, "check_writable", check_after_the_first)
    hold = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print('open', flush=True); time.sleep(120)"
    )
    reader = subprocess.Popen([sys.executable, "-c", hold, str(db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        code = cli.main(["run", "--db", str(db_path), "--quiet"])
    finally:
        reader.kill()
        reader.wait()
    assert code == 3
    assert_one_line_error(capsys.readouterr().err, "in use by another process")


def test_a_load_whose_commit_fails_tells_the_real_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from idr import loading, warehouse

    connection = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.ensure_landing_tables(connection, "landing")
    events = tmp_path / "e.ndjson"
    events.write_bytes(FIXTURES_DIR.joinpath("messy_events.ndjson").read_bytes())

    class FullDisk:
        """A connection whose commit fails as DuckDB's does when the disk is full (and ends the transaction)."""

        def __init__(self, inner: duckdb.DuckDBPyConnection) -> None:
            self.inner = inner

        def execute(self, sql: str, *args: object) -> object:
            if sql == "commit":
                self.inner.execute("rollback")
                raise duckdb.IOException('IO Error: Could not write file "w.duckdb.wal": No space left on device')
            return self.inner.execute(sql, *args)

    with pytest.raises(duckdb.IOException, match="No space left on device"):
        loading.load_files(FullDisk(connection), "landing", "load-1", [events], tmp_path)  # type: ignore[arg-type]
    assert connection.execute("select count(*) from landing.raw_events").fetchone() == (0,)
    connection.close()
