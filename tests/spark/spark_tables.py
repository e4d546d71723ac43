"""Reading and comparing the marts of a Spark build and of a DuckDB build, for the tests in this folder.

Spark's local metastore (Derby) admits one process, and a JVM keeps the settings of its first session,
so every Spark step runs in a child process of its own: the rows come back as JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
SCHEMA = "identity"
TABLES = ("profile_identifiers", "profile_events", "profiles")

SESSION = """
from pyspark.sql import SparkSession

def session(spark_dir):
    return (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", spark_dir + "/warehouse")
        .config("spark.driver.extraJavaOptions", "-Dderby.system.home=" + spark_dir + "/derby")
        .enableHiveSupport()
        .getOrCreate()
    )
"""

READ = (
    SESSION
    + """
import json, sys
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


def dbt_build(arguments: list[str], env: dict[str, str], target_path: Path) -> None:
    command = [str(DBT), "build", *arguments, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    command += ["--target-path", str(target_path)]
    result = subprocess.run(command, cwd=target_path.parent, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"dbt build {' '.join(arguments)} failed:\n{result.stdout[-4000:]}"


def compared_columns(duckdb_path: Path) -> dict[str, list[str]]:
    """Every column of the compared marts but batch_started_at (the time of the run)."""
    connection = duckdb.connect(str(duckdb_path), read_only=True)
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
