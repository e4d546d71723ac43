"""Reading and comparing the marts of a Spark build and of a DuckDB build, for the tests in this folder.

Spark's local metastore (Derby) admits one process, and a JVM keeps the settings of its first session,
so every Spark step runs in a child process of its own: the rows come back as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from idr.warehouse_files import attach_marts

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCHEMA = "identity"
TABLES = ("profile_identifiers", "profile_events", "profiles")

SESSION = f"""
import os
import sys
from pathlib import Path

from idr.spark_session import open_session, read_profile


def session(spark_dir):
    \"\"\"The session the driver opens: the settings of the `spark` output of profiles.yml.\"\"\"
    os.environ["IDR_SPARK_DIR"] = spark_dir
    return open_session(read_profile(Path({str(PROJECT_DIR)!r})), Path(spark_dir))
"""

READ = (
    SESSION
    + """
import json
spark = session(sys.argv[1])
for table, sql in json.loads(sys.argv[2]).items():
    for row in spark.sql(sql).collect():
        print(json.dumps([table, list(row)], default=str))
"""
)


def run_spark_script(script: str, *arguments: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"the Spark step failed:\n{result.stderr[-4000:]}"
    return result.stdout


def run_driver(*args: str | Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    """Run the `idr` command (the marts of the Spark target in schema SCHEMA) and check its exit code."""
    env = {**os.environ, "IDR_SPARK_SCHEMA": SCHEMA}
    command = [sys.executable, "-m", "idr", *map(str, args)]
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == expect, f"idr {' '.join(map(str, args))}: exit {result.returncode}\n" + (
        result.stdout[-3000:] + result.stderr[-3000:]
    )
    return result


def summary_lines(stdout: str) -> list[str]:
    """The driver's printed counts, without the warehouse's name, the timings, the run report's path and
    the readers' copy (on DuckDB only: Spark's readers query its tables through the metastore, and a
    night never locks them out)."""
    skipped = ("Warehouse ", "  time ", "  report ", "  readers ")
    return [line for line in stdout.splitlines() if not line.startswith(skipped)]


def compared_columns(duckdb_path: Path) -> dict[str, list[str]]:
    """Every column of the compared marts but batch_started_at (the time of the run)."""
    connection = duckdb.connect(str(duckdb_path), read_only=True)
    attach_marts(connection, duckdb_path, read_only=True)
    try:
        return {
            table: [
                name for name, *_ in connection.execute(f"describe {table}").fetchall() if name != "batch_started_at"
            ]
            for table in TABLES
        }
    finally:
        connection.close()


def duckdb_rows(duckdb_path: Path) -> dict[str, list[str]]:
    connection = duckdb.connect(str(duckdb_path), read_only=True)
    attach_marts(connection, duckdb_path, read_only=True)
    try:
        return {
            table: sorted(
                json.dumps(list(row), default=str)
                for row in connection.execute(f"select {', '.join(columns)} from {table}").fetchall()
            )
            for table, columns in compared_columns(duckdb_path).items()
        }
    finally:
        connection.close()


def spark_rows(spark_dir: Path, columns: dict[str, list[str]]) -> dict[str, list[str]]:
    queries = {table: f"select {', '.join(names)} from {SCHEMA}.{table}" for table, names in columns.items()}
    rows: dict[str, list[str]] = {table: [] for table in queries}
    for line in run_spark_script(READ, str(spark_dir), json.dumps(queries), cwd=spark_dir).splitlines():
        if line.startswith("["):
            table, values = json.loads(line)
            rows[table].append(json.dumps(values, default=str))
    return {table: sorted(values) for table, values in rows.items()}


Rows = tuple[dict[str, list[str]], dict[str, list[str]]]


def both_engines(duckdb_path: Path, spark_dir: Path) -> Rows:
    """The compared marts as built on DuckDB and on Spark."""
    return duckdb_rows(duckdb_path), spark_rows(spark_dir, compared_columns(duckdb_path))


def assert_same_rows(rows: Rows, table: str) -> None:
    expected, actual = rows
    assert expected[table], f"{table} is empty on DuckDB"
    assert actual[table] == expected[table]
