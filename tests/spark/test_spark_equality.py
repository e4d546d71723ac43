"""The same dbt project on Spark and on DuckDB gives the same profiles.

The demo seeds are built by the driver, `idr run`, on the embedded DuckDB target and with
`--target spark` (dbt-spark's session method), and the marts are compared row for row:
profile_identifiers, profile_events and profiles, every column but batch_started_at (the run's start
time). The driver's printed counts must agree too. Needs the Spark extras (`make spark-setup`);
`make test` runs this folder as its own step."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

pytest.importorskip("pyspark", reason="the Spark extras are not installed (make spark-setup)")

from spark_tables import TABLES, Rows, assert_same_rows, both_engines, run_driver, summary_lines


@dataclass
class Demo:
    rows: Rows
    duckdb_summary: list[str]
    spark_summary: list[str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo as built on DuckDB and on Spark: the compared marts and the driver's printed counts."""
    folder = tmp_path_factory.mktemp("demo_engines")
    duckdb_path, spark_dir = folder / "identity.duckdb", folder / "spark"
    on_duckdb = run_driver("run", "--db", duckdb_path, "--quiet")
    on_spark = run_driver("run", "--target", "spark", "--spark-dir", spark_dir, "--quiet")
    assert f"Warehouse {spark_dir} (Spark)" in on_spark.stdout
    return Demo(both_engines(duckdb_path, spark_dir), summary_lines(on_duckdb.stdout), summary_lines(on_spark.stdout))


@pytest.mark.parametrize("table", TABLES)
def test_the_demo_gives_the_same_rows_on_spark_and_duckdb(table: str, demo: Demo) -> None:
    assert_same_rows(demo.rows, table)


def test_the_driver_reports_the_same_counts_on_both_engines(demo: Demo) -> None:
    assert any(line.strip().startswith("profiles") for line in demo.duckdb_summary)
    assert demo.spark_summary == demo.duckdb_summary
