"""The randomized merge-protection streams of tests/python (crowds, kiosks, placeholders, limit
windows) resolve to the same profiles on Spark as on DuckDB, loaded by the driver on both.

The streams are written as one NDJSON file and loaded with `idr run --events` into DuckDB
and with `--target spark` into Spark. Compared: profile_identifiers, profile_events and profiles, every
column but batch_started_at, and the driver's printed counts. Before the Spark run, a child process
leaves what a load killed half-way would leave (rows in the landing table that the ledger of loaded
files does not record) and holds Spark's local metastore (Derby admits one process): the driver must
refuse to start while it is held, and must drop those rows when it runs."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass

import pytest

pytest.importorskip("pyspark", reason="the Spark extras are not installed (make spark-setup)")

from event_streams import stream
from spark_tables import SESSION, TABLES, Rows, assert_same_rows, both_engines, run_driver, summary_lines

STREAMS = int(os.environ.get("IDR_SPARK_STREAMS", "60"))
KILLED_LOAD = "20240101T000000Z-killed00"
HOLD_WITH_A_KILLED_LOAD = (
    SESSION
    + """
import json
from datetime import datetime, timezone

from idr.spark_warehouse import ensure_landing_tables

spark = session(sys.argv[1])
ensure_landing_tables(spark, "landing")
loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
rows = [("killed.ndjson", number, json.dumps(event), None, None, loaded_at)
        for number, event in enumerate(json.loads(sys.argv[2]), start=1)]
columns = "source_file string, source_line bigint, raw_text string, load_error string, " \\
          "load_error_detail string, loaded_at timestamp"
spark.createDataFrame(rows, schema=columns).createOrReplaceTempView("killed")
spark.sql(f"insert into landing.raw_events partition (load_id = '{sys.argv[3]}') select * from killed")
print("holding", flush=True)
sys.stdin.read()  # until the test closes it
"""
)


@dataclass
class Streams:
    rows: Rows
    duckdb_summary: list[str]
    spark_summary: list[str]
    refused: subprocess.CompletedProcess[str]
    loaded_again: subprocess.CompletedProcess[str]


def killed_events() -> list[dict[str, object]]:
    """Events of people who are in no stream: kept by mistake, they would add profiles."""
    return [
        {"type": "identify", "messageId": f"killed-{n}", "userId": f"killed-user-{n}", "anonymousId": f"killed-a{n}",
         "timestamp": "2024-01-01T00:00:00Z", "traits": {"email": f"killed{n}@example.com"}}
        for n in range(5)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> Streams:
    folder = tmp_path_factory.mktemp("stream_engines")
    rng = random.Random(11)
    inbox = folder / "inbox"
    inbox.mkdir()
    events_file = inbox / "streams.ndjson"
    with events_file.open("w", encoding="utf-8") as handle:
        for number in range(STREAMS):
            for event in stream(number, rng, events=rng.randint(1, 40)):
                handle.write(json.dumps(event) + "\n")
    duckdb_path, spark_dir = folder / "identity.duckdb", folder / "spark"
    # nightly runs, as a workspace's every night (dbt's unit tests, which test the SQL and not these
    # events, run on Spark with the demo: tests/spark/test_spark_equality.py)
    nightly = ("nightly", "--events", inbox, "--quiet", "--reports")
    on_duckdb = run_driver(*nightly, folder / "reports-duckdb", "--db", duckdb_path)

    spark_dir.mkdir()
    holder_log = folder / "holder.log"
    with holder_log.open("w") as log:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_WITH_A_KILLED_LOAD, str(spark_dir), json.dumps(killed_events()), KILLED_LOAD],
            cwd=spark_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
        )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding", holder_log.read_text()[-4000:]
        refused = run_driver("load", "--target", "spark", "--spark-dir", spark_dir, "--events", events_file, expect=3)
    finally:
        holder.communicate(input="", timeout=120)
    assert holder.returncode == 0

    spark = ("--target", "spark", "--spark-dir", spark_dir)
    on_spark = run_driver(*nightly, folder / "reports-spark", *spark)
    loaded_again = run_driver("load", "--events", events_file, *spark)
    return Streams(
        rows=both_engines(duckdb_path, spark_dir),
        duckdb_summary=summary_lines(on_duckdb.stdout),
        spark_summary=summary_lines(on_spark.stdout),
        refused=refused,
        loaded_again=loaded_again,
    )


@pytest.mark.parametrize("table", TABLES)
def test_the_streams_resolve_alike_on_spark_and_duckdb(table: str, streams: Streams) -> None:
    assert_same_rows(streams.rows, table)


def test_the_driver_reports_the_same_load_and_counts_on_both_engines(streams: Streams) -> None:
    assert any(line.strip().startswith("this load") for line in streams.duckdb_summary)
    assert streams.spark_summary == streams.duckdb_summary


def test_a_held_spark_metastore_is_reported_in_one_line(streams: Streams) -> None:
    last = streams.refused.stderr.strip().splitlines()[-1]
    assert last.startswith("idr: ") and "in use by another process" in last
    assert "Traceback" not in streams.refused.stderr


def test_the_rows_of_a_killed_load_are_dropped(streams: Streams) -> None:
    profiles = streams.rows[1]["profile_identifiers"]
    assert not [row for row in profiles if "killed" in row]


def test_a_file_loaded_before_is_not_loaded_again_on_spark(streams: Streams) -> None:
    assert streams.loaded_again.stdout.startswith("loaded 0 rows (0 unreadable) from 0 file(s)")
    assert "1 file(s) loaded before" in streams.loaded_again.stdout
