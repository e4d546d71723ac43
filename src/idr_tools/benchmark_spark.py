#!/usr/bin/env python3
"""Benchmark: the same events on the embedded DuckDB file and on Spark, through the driver, in one run.

Reuses the generated events of a benchmark work folder (or generates them, as idr-benchmark
does), then, with `idr` on each target in turn (DuckDB into a new file, Spark into a new
folder, `--target spark`): loads them (`load`) and builds (`nightly --full-refresh`), timing both and
taking each dbt node's time. Last, a child process exports the Spark marts to parquet and they are
compared with DuckDB's row for row (every column but batch_started_at). Writes benchmark_spark.json
and benchmark_spark.md in the work folder. Needs the Spark extras (`make spark-setup`). Never part of
the test suite.

    idr-benchmark-spark --events 1000000 --work build/bench-1m
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from idr.dbt_invoke import PROJECT_DIR
from idr.run_results import node_seconds

IDR = ["-m", "idr"]  # the driver, run by this Python
RUN_RESULTS = PROJECT_DIR / "target" / "run_results.json"
SCHEMA = "identity"
MARTS = ("profile_identifiers", "profile_events", "profiles")
NODES = {"stitching (int_identifiers_stitched)": "int_identifiers_stitched",
         "parsing the JSON (int_events_validated)": "int_events_validated"}  # fmt: skip
EXPORT = f"""
import os, sys
from pathlib import Path
from idr.spark_session import open_session, read_profile
from idr.spark_warehouse import export_tables
os.environ["IDR_SPARK_DIR"] = sys.argv[1]
session = open_session(read_profile(Path({str(PROJECT_DIR)!r})), Path(sys.argv[1]))
export_tables(session, {SCHEMA!r}, {list(MARTS)!r}, Path(sys.argv[2]))
session.stop()
"""


def timed(arguments: list[str]) -> float:
    started = time.monotonic()
    env = {**os.environ, "IDR_SPARK_SCHEMA": SCHEMA}
    subprocess.run([sys.executable, *arguments], cwd=PROJECT_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
    return round(time.monotonic() - started, 2)


def load_and_build(events_dir: Path, work: Path, name: str, warehouse_args: list[str]) -> dict[str, object]:
    """`idr load` then `idr nightly --full-refresh` on one target: seconds, and each node's time."""
    load = timed([*IDR, "load", "--events", str(events_dir), *warehouse_args])
    build = timed(
        [*IDR, "nightly", "--events", str(events_dir), "--full-refresh", "--quiet", "--reports",
         str(work / f"reports-{name}"), "--logs", str(work / f"logs-{name}"), *warehouse_args]
    )  # fmt: skip
    report = json.loads((work / f"reports-{name}" / "latest.json").read_text())
    return {
        "load_seconds": load,
        "full_build_seconds": build,
        "warehouse_counts": report["warehouse_counts"],
        "node_seconds": node_seconds(RUN_RESULTS),
    }


def compare(duckdb_path: Path, export_dir: Path) -> dict[str, dict[str, int]]:
    """Rows of each mart on DuckDB, on Spark, and rows of either missing from the other."""
    connection = duckdb.connect()
    try:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"attach '{duckdb_path}' as built (read_only)")
        figures = {}
        for table in MARTS:
            columns = [
                (name, kind)
                for name, kind, *_ in connection.execute(f"describe built.{table}").fetchall()
                if name != "batch_started_at"
            ]
            ours = f"select {', '.join(name for name, _ in columns)} from built.{table}"
            theirs = "select {} from read_parquet('{}/*.parquet')".format(
                ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in columns), export_dir / table
            )

            def count(sql: str) -> int:
                return int(connection.execute(f"select count(*) from ({sql})").fetchall()[0][0])

            figures[table] = {
                "duckdb_rows": count(ours),
                "spark_rows": count(theirs),
                "only_on_duckdb": count(f"{ours} except all {theirs}"),
                "only_on_spark": count(f"{theirs} except all {ours}"),
            }
        return figures
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="about how many events (default 1,000,000)")
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, help="work folder (default build/benchmark-<events>-ndjson)")
    args = parser.parse_args()
    work = (args.work or PROJECT_DIR / "build" / f"benchmark-{args.events}-ndjson").resolve()
    events_dir = work / "events"
    if not (events_dir / "truth.csv").exists():
        shutil.rmtree(events_dir, ignore_errors=True)
        timed(
            ["-m", "idr_tools.generate_events", "--events", str(args.events), "--days", str(args.days),
             "--seed", str(args.seed), "--out", str(events_dir)]
        )  # fmt: skip
    duckdb_path, spark_dir, export_dir = work / "engines.duckdb", work / "spark", work / "spark-export"
    for path in (duckdb_path, duckdb_path.with_name(duckdb_path.name + ".wal")):
        path.unlink(missing_ok=True)
    for folder in (spark_dir, export_dir):
        shutil.rmtree(folder, ignore_errors=True)

    results: dict[str, object] = {
        "duckdb": load_and_build(events_dir, work, "duckdb", ["--db", str(duckdb_path)]),
        "spark": load_and_build(events_dir, work, "spark", ["--target", "spark", "--spark-dir", str(spark_dir)]),
    }
    results["export_seconds"] = timed(["-c", EXPORT, str(spark_dir), str(export_dir)])
    results["marts"] = compare(duckdb_path, export_dir)
    (work / "benchmark_spark.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (work / "benchmark_spark.md").write_text(table + "\n")
    print(table)


def markdown(results: dict) -> str:
    duck, spark = results["duckdb"], results["spark"]
    rows = [
        ("load (`idr load`)", f"{duck['load_seconds']} s", f"{spark['load_seconds']} s"),
        ("full build (`idr nightly --full-refresh`)", f"{duck['full_build_seconds']} s",
         f"{spark['full_build_seconds']} s"),
    ]  # fmt: skip
    for label, node in NODES.items():
        rows.append((f"of which {label}", f"{duck['node_seconds'][node]} s", f"{spark['node_seconds'][node]} s"))
    for table, figures in results["marts"].items():
        rows.append(
            (
                f"`{table}` rows (differing)",
                f"{figures['duckdb_rows']:,} ({figures['only_on_duckdb']:,} not on Spark)",
                f"{figures['spark_rows']:,} ({figures['only_on_spark']:,} not on DuckDB)",
            )
        )
    lines = ["| step | DuckDB | Spark |", "| --- | --- | --- |", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
