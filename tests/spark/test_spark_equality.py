"""The same dbt project on Spark and on DuckDB gives the same profiles.

The demo seeds are built with `dbt build` on the embedded DuckDB target and on the `spark` target
(dbt-spark's session method, Spark in this process's child), and the marts are compared row for row:
profile_identifiers, profile_events and profiles, every column but batch_started_at (the run's start
time). Needs the Spark extras (`make spark-setup`); `make test` runs it as its own step."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("pyspark", reason="the Spark extras are not installed (make spark-setup)")
from pyspark.sql import SparkSession

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
TABLES = ("profile_identifiers", "profile_events", "profiles")
SCHEMA = "identity"


def dbt(arguments: list[str], env: dict[str, str], target_path: Path) -> None:
    command = [str(DBT), *arguments, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    command += ["--target-path", str(target_path)]
    result = subprocess.run(command, cwd=target_path.parent, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"dbt {' '.join(arguments)} failed:\n{result.stdout[-4000:]}"


def columns_of(connection: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [name for name, *_ in connection.execute(f"describe {table}").fetchall() if name != "batch_started_at"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo built on both targets: the DuckDB file and the Spark folder."""
    folder = tmp_path_factory.mktemp("engines")
    duckdb_path, spark_dir = folder / "identity.duckdb", folder / "spark"
    spark_dir.mkdir()
    env = {**os.environ, "IDR_DB_PATH": str(duckdb_path), "IDR_SPARK_DIR": str(spark_dir), "IDR_SPARK_SCHEMA": SCHEMA}
    dbt(["build"], env, folder / "target-duckdb")
    dbt(["build", "--target", "spark"], env, spark_dir / "target")
    return duckdb_path, spark_dir


@pytest.fixture(scope="module")
def spark(built: tuple[Path, Path]) -> Iterator[SparkSession]:
    _, spark_dir = built
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir / 'derby'}")
        .enableHiveSupport()
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.parametrize("table", TABLES)
def test_spark_and_duckdb_give_the_same_rows(table: str, built: tuple[Path, Path], spark: SparkSession) -> None:
    duckdb_path, _ = built
    connection = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        columns = columns_of(connection, table)
        expected = connection.execute(f"select {', '.join(columns)} from {table}").fetchall()
    finally:
        connection.close()
    actual = [tuple(row) for row in spark.sql(f"select {', '.join(columns)} from {SCHEMA}.{table}").collect()]
    assert expected, f"{table} is empty on DuckDB"
    assert len(actual) == len(expected)
    assert sorted(actual, key=repr) == sorted(expected, key=repr)
