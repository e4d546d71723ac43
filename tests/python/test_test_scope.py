"""Data tests on incremental models check the rows written since they last passed; a failing test
keeps checking them, and idr_test_scope=all checks every row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES_DIR, PROJECT_DIR, query, run_idr

from idr.warehouse_files import attach_marts

NOT_NULL_POSITION = "not_null_profile_events_timeline_position"


def dbt_test(db_path: Path, target: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), "test", "--select", "profile_events", "--target-path", str(target), *extra],
        cwd=PROJECT_DIR,
        env={**os.environ, "IDR_DB_PATH": str(db_path)},
        capture_output=True,
        text=True,
        check=False,
    )


def failing_tests(result: subprocess.CompletedProcess[str]) -> set[str]:
    return {name for name in (NOT_NULL_POSITION,) if f"FAIL 1 {name}" in result.stdout}


def execute(db_path: Path, sql: str) -> None:
    connection = duckdb.connect(str(db_path))
    try:
        attach_marts(connection, db_path)
        connection.execute(sql)
    finally:
        connection.close()


@pytest.fixture()
def built(tmp_path: Path) -> Path:
    db_path = tmp_path / "identity.duckdb"
    run_idr("run", "--events", FIXTURES_DIR / "shared_device.ndjson", "--segment-tables", "none", "--db", db_path)
    assert query(db_path, "select count(*) from idr_test_watermarks where test_id like '%profile_events%'")[0][0] > 0
    return db_path


def test_scoped_tests_check_new_rows_and_keep_checking_until_they_pass(built: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    message_id = query(built, "select min(message_id) from profile_events")[0][0]
    execute(built, f"update profile_events set timeline_position = null where message_id = '{message_id}'")

    # the broken row was written (and tested) before: the scoped run does not look at it again ...
    scoped = dbt_test(built, target)
    assert scoped.returncode == 0, scoped.stdout
    # ... a full check does
    full = dbt_test(built, target, "--vars", "{idr_test_scope: all}")
    assert full.returncode == 1 and failing_tests(full) == {NOT_NULL_POSITION}, full.stdout

    # the same row rewritten by a later run is checked, and stays checked while the test fails
    execute(built, f"update profile_events set batch_started_at = now() where message_id = '{message_id}'")
    for _ in range(2):
        rerun = dbt_test(built, target)
        assert rerun.returncode == 1 and failing_tests(rerun) == {NOT_NULL_POSITION}, rerun.stdout

    execute(built, f"update profile_events set timeline_position = 0 where message_id = '{message_id}'")
    assert dbt_test(built, target).returncode == 0
