"""The randomized merge-protection streams of tests/python (crowds, kiosks, placeholders, limit
windows) resolve to the same profiles on Spark as on DuckDB.

The streams are written as one NDJSON file. DuckDB gets it through `scripts/idr.py run`; Spark gets the
same lines in its landing table (schema `landing`, table `raw_events`, the columns the driver writes),
written by a child process (Derby, Spark's local metastore, admits one process at a time), then
`dbt build --target spark` without the demo seeds. Compared: profile_identifiers, profile_events and
profiles, every column but batch_started_at."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="the Spark extras are not installed (make spark-setup)")

from spark_tables import (
    PROJECT_DIR,
    SCHEMA,
    SESSION,
    TABLES,
    Rows,
    assert_same_rows,
    both_engines,
    dbt_build,
    run_spark_script,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from event_streams import stream

STREAMS = int(os.environ.get("IDR_SPARK_STREAMS", "60"))
LANDING = (
    SESSION
    + """
import sys
from datetime import datetime, timezone

spark = session(sys.argv[1])
loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
with open(sys.argv[2], encoding="utf-8") as handle:
    rows = [("streams", sys.argv[2], number, line.rstrip("\\n"), None, None, loaded_at)
            for number, line in enumerate(handle, start=1)]
columns = ("load_id string, source_file string, source_line bigint, raw_text string, load_error string, "
           "load_error_detail string, loaded_at timestamp")
spark.sql("create schema if not exists landing")
spark.createDataFrame(rows, schema=columns).write.mode("overwrite").saveAsTable("landing.raw_events")
"""
)


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> Rows:
    """The compared marts of the streams as resolved on DuckDB (the driver) and on Spark."""
    folder = tmp_path_factory.mktemp("stream_engines")
    rng = random.Random(11)
    events_file = folder / "streams.ndjson"
    with events_file.open("w", encoding="utf-8") as handle:
        for number in range(STREAMS):
            for event in stream(number, rng, events=rng.randint(1, 40)):
                handle.write(json.dumps(event) + "\n")
    duckdb_path, spark_dir = folder / "identity.duckdb", folder / "spark"
    spark_dir.mkdir()
    subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "idr.py"), "run", "--events", str(events_file),
         "--db", str(duckdb_path), "--quiet"],
        cwd=PROJECT_DIR, check=True, capture_output=True,
    )  # fmt: skip
    run_spark_script(LANDING, str(spark_dir), str(events_file), cwd=spark_dir)
    env = {**os.environ, "IDR_SPARK_DIR": str(spark_dir), "IDR_SPARK_SCHEMA": SCHEMA}
    dbt_build(["--target", "spark", "--vars", '{"idr_segment_tables": "none"}'], env, spark_dir / "target")
    return both_engines(duckdb_path, spark_dir)


@pytest.mark.parametrize("table", TABLES)
def test_the_streams_resolve_alike_on_spark_and_duckdb(table: str, rows: Rows) -> None:
    assert_same_rows(rows, table)
