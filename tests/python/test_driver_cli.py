"""The driver's failures: one clear line on stderr and a distinct exit code, never a stack trace."""

from __future__ import annotations

import fcntl
from pathlib import Path

import duckdb
from conftest import FIXTURES_DIR, assert_one_line_error, run_idr


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
        result = run_idr("run", "--db", db_path, expect=3)
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
