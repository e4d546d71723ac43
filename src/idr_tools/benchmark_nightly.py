"""Benchmark: what a nightly run adding one day's events costs next to a full rebuild.

Generates (or reuses) daily NDJSON event files, loads all days but the last with `idr nightly`, then
times, in one session on one machine: the nightly run that adds the last day (incremental), and a
full rebuild of the same warehouse (`idr nightly --full-refresh`: the same command, every table
rebuilt from the landing table). Writes the figures as JSON and as a
Markdown table. Never part of the test suite.

    idr-benchmark-nightly --people 26000 --days 100 --work build/bench-nightly
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from idr.dbt_invoke import PROJECT_DIR
from idr.run_results import node_seconds
from idr_tools.generate_events import day_of

IDR = ["-m", "idr"]  # the driver, run by this Python
RUN_RESULTS = PROJECT_DIR / "target" / "run_results.json"
THREADS = 2
TOP_NODES = 25


def timed(arguments: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, *IDR, *arguments, "--quiet"], cwd=PROJECT_DIR, check=True, stdout=subprocess.DEVNULL
    )
    return time.monotonic() - started


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with path.open("rb") as handle:
            total += sum(1 for _ in handle)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=26_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=PROJECT_DIR / "build" / "bench-nightly")
    parser.add_argument(
        "--keep-history",
        action="store_true",
        help="keep a copy of the warehouse before the nightly run (history.duckdb)",
    )
    args = parser.parse_args()

    events_dir = args.work / "events"
    if not (events_dir / "truth.csv").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "idr_tools.generate_events",
                "--people",
                str(args.people),
                "--days",
                str(args.days),
                "--seed",
                str(args.seed),
                "--out",
                str(events_dir),
            ],
            check=True,
        )
    files = sorted(events_dir.glob("day-*.ndjson"))
    last_day = max(day_of(path) for path in files)
    history = [path for path in files if day_of(path) != last_day]
    night = [path for path in files if day_of(path) == last_day]  # one file per shard
    inbox, db_path = args.work / "inbox", args.work / "identity.duckdb"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    for path in (db_path, db_path.with_name(db_path.name + ".wal")):
        path.unlink(missing_ok=True)
    for path in history:
        (inbox / path.name).symlink_to(path.resolve())
    common = ["--db", str(db_path), "--reports", str(args.work / "reports"), "--logs", str(args.work / "logs")]

    history_seconds = timed(["nightly", "--events", str(inbox), *common])
    if args.keep_history:
        shutil.copyfile(db_path, args.work / "history.duckdb")
    for path in night:
        (inbox / path.name).symlink_to(path.resolve())
    nightly_seconds = timed(["nightly", "--events", str(inbox), *common])
    nightly_nodes = node_seconds(RUN_RESULTS)
    full_seconds = timed(["nightly", "--events", str(inbox), "--full-refresh", *common])
    full_nodes = node_seconds(RUN_RESULTS)

    results: dict[str, Any] = {
        "events_total": count_lines(files),
        "events_new": count_lines(night),
        "first_build_of_history_seconds": round(history_seconds, 1),
        "nightly_incremental_seconds": round(nightly_seconds, 1),
        "full_rebuild_seconds": round(full_seconds, 1),
        "nightly_over_full": round(nightly_seconds / full_seconds, 3),
    }
    results["new_share"] = round(results["events_new"] / results["events_total"], 4)
    nodes = sorted(full_nodes, key=lambda name: -full_nodes[name] - nightly_nodes.get(name, 0.0))
    results["node_seconds"] = {name: {"nightly": nightly_nodes.get(name), "full": full_nodes[name]} for name in nodes}
    (args.work / "nightly_benchmark.json").write_text(json.dumps(results, indent=2) + "\n")
    measures = [(key, value) for key, value in results.items() if key != "node_seconds"]
    table = "\n".join(
        [
            "| measure | value |",
            "| --- | --- |",
            *(f"| {key} | {value} |" for key, value in measures),
            "",
            f"Slowest dbt nodes (seconds; node times overlap on {THREADS} threads):",
            "",
            "| node | nightly | full rebuild |",
            "| --- | --- | --- |",
            *(f"| {name} | {nightly_nodes.get(name, '')} | {full_nodes[name]} |" for name in nodes[:TOP_NODES]),
        ]
    )
    (args.work / "nightly_benchmark.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
