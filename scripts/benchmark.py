#!/usr/bin/env python3
"""Benchmark: load and full build of N generated events, the stitching against scipy, and accuracy.

For one size, in one run on one machine: generates the events (or reuses them), then measures

- load: `idr.py load` of every file into a new warehouse (wall time, peak memory of the process);
- full build: `idr.py nightly --full-refresh` on it (wall time, peak memory, each dbt node's time
  from run_results.json, events per second of load + build);
- stitching on its own, on the whole identity graph: the int_identifiers_stitched model rebuilt
  alone (merge protection and stable profile ids), the stitching query alone (merge protection,
  analyses/identity_stitching.sql) and the plain connected components
  (analyses/identity_connected_components.sql);
- scipy.sparse.csgraph.connected_components on the very same edges (building the sparse matrix
  included), and the ratios of our stitching times to it;
- accuracy against the generator's truth (scripts/idrlib/accuracy.py).

Writes benchmark.json and benchmark.md in the work folder. Needs numpy and scipy
(`make benchmark` installs them from requirements-benchmark.lock). Never part of the test suite.

    python scripts/benchmark.py --events 1000000 [--format parquet] [--work build/benchmark-1m]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parent))

from idrlib.accuracy import measure
from idrlib.run_results import node_seconds

PROJECT_DIR = Path(__file__).resolve().parents[1]
SCRIPTS = PROJECT_DIR / "scripts"
DBT = Path(sys.executable).with_name("dbt")
STITCH_MODEL = "int_identifiers_stitched"
CC_ANALYSIS = "identity_connected_components"
STITCH_ANALYSIS = "identity_stitching"
TOP_NODES = 12


@dataclass
class Measured:
    seconds: float
    peak_mb: float


def run_measured(arguments: list[str]) -> Measured:
    """Run a command to completion; its wall time and the peak resident memory of its process."""
    started = time.monotonic()
    process = subprocess.Popen(arguments, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(arguments)} failed with exit code {process.returncode}")
    return Measured(round(seconds, 2), round(usage.ru_maxrss / 1024, 1))  # ru_maxrss is in KiB on Linux


def dbt(arguments: list[str], db_path: Path, target: Path) -> None:
    env = {**os.environ, "IDR_DB_PATH": str(db_path)}
    command = [
        str(DBT),
        "--quiet",
        *arguments,
        "--target-path",
        str(target),
        "--vars",
        '{"idr_segment_tables": "none"}',
    ]
    subprocess.run(command, cwd=PROJECT_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def time_analysis(name: str, db_path: Path, target: Path) -> float:
    """Compile an analysis and time it on the warehouse (DuckDB, all cores)."""
    dbt(["compile", "--select", name], db_path, target)
    sql = next(target.glob(f"compiled/*/analyses/{name}.sql")).read_text()
    connection = duckdb.connect(str(db_path), read_only=True)
    try:
        started = time.monotonic()
        connection.execute(f"create temp table components as {sql}")
        return round(time.monotonic() - started, 3)
    finally:
        connection.close()


def time_scipy(db_path: Path) -> tuple[float, int, int, int]:
    """scipy's connected components on the identity edges: seconds (sparse matrix + components),
    nodes, edges, components."""
    connection = duckdb.connect(str(db_path), read_only=True)
    try:
        nodes = int(connection.execute("select max(identifier_key) from int_identifiers_keyed").fetchall()[0][0])
        edges = connection.execute(
            "select identifier_a_key, identifier_b_key from int_identity_edges_aggregated"
        ).fetchnumpy()
    finally:
        connection.close()
    a, b = edges["identifier_a_key"].astype(np.int64), edges["identifier_b_key"].astype(np.int64)
    started = time.monotonic()
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(nodes + 1, nodes + 1)).tocsr()
    count, _ = connected_components(graph, directed=False)
    seconds = time.monotonic() - started
    return round(seconds, 4), nodes, len(a), count - 1  # key 0 is not an identifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="about how many events (default 1,000,000)")
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=["ndjson", "ndjson.gz", "parquet"], default="ndjson")
    parser.add_argument("--work", type=Path, help="work folder (default build/benchmark-<events>-<format>)")
    args = parser.parse_args()
    default_work = PROJECT_DIR / "build" / f"benchmark-{args.events}-{args.format}"
    work = (args.work or default_work).resolve()
    events_dir, db_path, target = work / "events", work / "identity.duckdb", work / "target"

    results: dict[str, object] = {"events_asked": args.events, "format": args.format, "seed": args.seed}
    if not (events_dir / "truth.csv").exists():
        shutil.rmtree(events_dir, ignore_errors=True)
        generated = run_measured(
            [sys.executable, str(SCRIPTS / "generate_events.py"), "--events", str(args.events), "--days",
             str(args.days), "--seed", str(args.seed), "--format", args.format, "--out", str(events_dir)]
        )  # fmt: skip
        results["generate_seconds"] = generated.seconds
    for path in (db_path, db_path.with_name(db_path.name + ".wal")):
        path.unlink(missing_ok=True)
    common = ["--db", str(db_path)]

    load = run_measured([sys.executable, str(SCRIPTS / "idr.py"), "load", "--events", str(events_dir), *common])
    build = run_measured(
        [sys.executable, str(SCRIPTS / "idr.py"), "nightly", "--events", str(events_dir), "--full-refresh",
         "--reports", str(work / "reports"), "--logs", str(work / "logs"), "--quiet", *common]
    )  # fmt: skip
    build_nodes = node_seconds(PROJECT_DIR / "target" / "run_results.json")
    report = json.loads((work / "reports" / "latest.json").read_text())
    counts = report["warehouse_counts"]

    dbt(["run", "--select", STITCH_MODEL, "--full-refresh"], db_path, target)
    stitch_seconds = node_seconds(target / "run_results.json")[STITCH_MODEL]
    stitch_query_seconds = time_analysis(STITCH_ANALYSIS, db_path, target)
    cc_seconds = time_analysis(CC_ANALYSIS, db_path, target)
    scipy_seconds, nodes, edges, components = time_scipy(db_path)

    connection = duckdb.connect(str(db_path), read_only=True)
    try:
        accuracy = measure(connection, events_dir / "truth.csv")
    finally:
        connection.close()

    loaded_events = int(counts["accepted_events"]) + int(counts["rejected_events"])
    results.update(
        {
            "events_loaded": loaded_events,
            "warehouse_counts": counts,
            "load_seconds": load.seconds,
            "load_peak_mb": load.peak_mb,
            "full_build_seconds": build.seconds,
            "full_build_peak_mb": build.peak_mb,
            "events_per_second": round(loaded_events / (load.seconds + build.seconds)),
            "identity_graph": {"identifiers": nodes, "edges": edges, "components": components},
            "stitching_model_seconds": stitch_seconds,
            "stitching_query_seconds": stitch_query_seconds,
            "connected_components_sql_seconds": cc_seconds,
            "scipy_connected_components_seconds": scipy_seconds,
            "stitching_model_over_scipy": round(stitch_seconds / scipy_seconds, 2),
            "stitching_query_over_scipy": round(stitch_query_seconds / scipy_seconds, 2),
            "connected_components_sql_over_scipy": round(cc_seconds / scipy_seconds, 2),
            "accuracy": accuracy.as_dict(),
            "node_seconds": dict(sorted(build_nodes.items(), key=lambda item: -item[1])),
        }
    )
    (work / "benchmark.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results, build_nodes)
    (work / "benchmark.md").write_text(table + "\n")
    print(table)


def markdown(results: dict, build_nodes: dict[str, float]) -> str:
    accuracy = results["accuracy"]
    graph = results["identity_graph"]
    rows = [
        ("events loaded", f"{results['events_loaded']:,} ({results['format']})"),
        ("load", f"{results['load_seconds']} s, peak {results['load_peak_mb']:,} MB"),
        ("full build (dbt)", f"{results['full_build_seconds']} s, peak {results['full_build_peak_mb']:,} MB"),
        ("events per second (load + build)", f"{results['events_per_second']:,}"),
        ("identity graph", f"{graph['identifiers']:,} identifiers, {graph['edges']:,} edges"),
        ("stitching model alone (merge protection, stable ids)", f"{results['stitching_model_seconds']} s"),
        ("stitching query alone (merge protection)", f"{results['stitching_query_seconds']} s"),
        ("connected components in SQL", f"{results['connected_components_sql_seconds']} s"),
        ("scipy connected_components", f"{results['scipy_connected_components_seconds']} s"),
        ("stitching model / scipy", results["stitching_model_over_scipy"]),
        ("stitching query / scipy", results["stitching_query_over_scipy"]),
        ("connected components SQL / scipy", results["connected_components_sql_over_scipy"]),
    ]
    for view in ("identifiers", "events", "events_with_an_owned_identifier"):
        figures = accuracy[view]
        rows.append(
            (
                f"accuracy, {view.replace('_', ' ')}",
                f"precision {figures['precision']:.4f}, recall {figures['recall']:.4f}, F1 {figures['f1']:.4f}",
            )
        )
    rows.append(
        (
            "over-merged profiles / split people",
            f"{accuracy['over_merged_profiles']} ({accuracy['over_merged_profiles_with_shared_identifier']} "
            f"holding a shared identifier) / {accuracy['split_people']:,} of {accuracy['people']:,}",
        )
    )
    lines = ["| measure | value |", "| --- | --- |", *(f"| {name} | {value} |" for name, value in rows)]
    slowest = sorted(build_nodes.items(), key=lambda item: -item[1])[:TOP_NODES]
    lines += ["", "Slowest nodes of the full build (seconds, 2 threads):", "", "| node | seconds |", "| --- | --- |"]
    lines += [f"| {name} | {seconds} |" for name, seconds in slowest]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
