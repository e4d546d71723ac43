"""The same dbt project on Spark and on DuckDB gives the same profiles.

The demo seeds are built with `dbt build` on the embedded DuckDB target and on the `spark` target
(dbt-spark's session method), and the marts are compared row for row: profile_identifiers,
profile_events and profiles, every column but batch_started_at (the run's start time). Needs the Spark
extras (`make spark-setup`); `make test` runs this folder as its own step."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("pyspark", reason="the Spark extras are not installed (make spark-setup)")

from spark_tables import SCHEMA, TABLES, Rows, assert_same_rows, both_engines, dbt_build


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> Rows:
    """The compared marts of the demo as built on DuckDB and on Spark."""
    folder = tmp_path_factory.mktemp("demo_engines")
    duckdb_path, spark_dir = folder / "identity.duckdb", folder / "spark"
    spark_dir.mkdir()
    env = {**os.environ, "IDR_DB_PATH": str(duckdb_path), "IDR_SPARK_DIR": str(spark_dir), "IDR_SPARK_SCHEMA": SCHEMA}
    dbt_build([], env, folder / "target-duckdb")
    dbt_build(["--target", "spark"], env, spark_dir / "target")
    return both_engines(duckdb_path, spark_dir)


@pytest.mark.parametrize("table", TABLES)
def test_the_demo_gives_the_same_rows_on_spark_and_duckdb(table: str, rows: Rows) -> None:
    assert_same_rows(rows, table)
