#!/usr/bin/env python3
"""Benchmark: load, full build and a night adding 1 % of N generated events; the stitching against
scipy; accuracy.

For one size, in one run on one machine: generates the events (or reuses them), keeps the files of
the last day(s) (about 1 % of the events, --night-share) out of the first load, then measures

- load: `idr load` of the other files into a new warehouse (wall time, peak memory of the process);
- full build: `idr nightly --full-refresh` on it (wall time, peak memory, each dbt node's time
  from run_results.json, the warehouse file's size after it, events per second of load + build);
- the night: the held-back files added to the events folder and `idr nightly` (incremental, the
  new files loaded by it) run on it: the same figures;
- accuracy against the generator's truth (idr_tools/accuracy.py), on the warehouse after the
  night, which holds every event (--skip-accuracy to leave it out);
- unless --skip-analyses, on the whole identity graph: the int_identifiers_stitched model rebuilt
  alone (merge protection and stable profile ids), the stitching query alone (merge protection,
  analyses/identity_stitching.sql) and the plain connected components
  (analyses/identity_connected_components.sql); scipy.sparse.csgraph.connected_components on the very
  same edges (building the sparse matrix included), and the ratios of our stitching times to it.

The events folder (work/events) keeps every file and truth.csv; the driver reads work/inbox, which
links to the files loaded so far. Writes benchmark.json and benchmark.md in the work folder. The
analyses need numpy and scipy (`make benchmark` installs them from requirements-benchmark.lock).
Never part of the test suite.

    idr-benchmark --events 1000000 [--format parquet] [--work build/benchmark-1m]
    idr-benchmark --events 100000000 --format ndjson.gz --skip-analyses
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

from idr.dbt_invoke import PROJECT_DIR
from idr.publishing import GENERATIONS, generation_path, reader_path
from idr.run_results import node_seconds
from idr.warehouse_files import attach_marts, marts_path
from idr_tools.accuracy import measure
from idr_tools.generate_events import day_of

IDR = ["-m", "idr"]  # the driver, run by this Python
RUN_RESULTS = PROJECT_DIR / "target" / "run_results.json"  # where `idr nightly` leaves dbt's results
DBT = Path(sys.executable).with_name("dbt")
STITCH_MODEL = "int_identifiers_stitched"
CC_ANALYSIS = "identity_connected_components"
STITCH_ANALYSIS = "identity_stitching"
TOP_NODES = 12
MB = 1024 * 1024


@dataclass
class Measured:
    seconds: float
    peak_mb: float


@dataclass
class Build:
    """One `idr nightly` run: its cost, its dbt nodes, and the warehouse it left."""

    measured: Measured
    nodes: dict[str, float]
    counts: dict
    warehouse_mb: dict[str, float]
    publish_seconds: float  # of the run's seconds: the marts copied into the readers' file

    @property
    def events(self) -> int:
        """Every event in the warehouse: accepted and rejected."""
        return int(self.counts["accepted_events"]) + int(self.counts["rejected_events"])

    @property
    def slowest_nodes(self) -> dict[str, float]:
        """Every dbt node's seconds, the slowest first."""
        return dict(sorted(self.nodes.items(), key=lambda item: -item[1]))


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


def generate(args: argparse.Namespace, events_dir: Path) -> dict[str, object]:
    """Generate the events into `events_dir` unless a complete set is there; what it cost."""
    if (events_dir / "truth.csv").exists():
        return {"reused": True}
    partial = events_dir.with_name(events_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(events_dir, ignore_errors=True)
    command = [sys.executable, "-m", "idr_tools.generate_events", "--events", str(args.events), "--days",
               str(args.days), "--seed", str(args.seed), "--format", args.format, "--out", str(partial)]  # fmt: skip
    options = {name: value for name, value in (("shards", args.shards), ("jobs", args.jobs)) if value}
    command += [item for name, value in options.items() for item in (f"--{name}", str(value))]
    generated = run_measured(command)
    partial.rename(events_dir)
    return {"reused": False, "seconds": generated.seconds, "peak_mb": generated.peak_mb, **options}


def split_night(events_dir: Path, night_share: float) -> tuple[list[Path], list[Path]]:
    """The event files of the history and those of the night: the last day(s), about `night_share`
    of the days (one day at least)."""
    files = sorted(path for path in events_dir.glob("day-*") if path.is_file())
    days = sorted({day_of(path) for path in files})
    night_days = set(days[-max(1, round(len(days) * night_share)) :])
    return [p for p in files if day_of(p) not in night_days], [p for p in files if day_of(p) in night_days]


def link_into(inbox: Path, files: list[Path]) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for path in files:
        (inbox / path.name).symlink_to(path.resolve())


def warehouse_mb(db_path: Path) -> dict[str, float]:
    """The size on disk of the warehouse's two files together (`db`), of its marts file alone (`marts`)
    and of their write-ahead logs (MB)."""
    marts = marts_path(db_path)
    wals = [path.with_name(path.name + ".wal") for path in (db_path, marts)]
    sizes = {
        "db": db_path.stat().st_size + (marts.stat().st_size if marts.exists() else 0),
        "marts": marts.stat().st_size if marts.exists() else 0,
        "wal": sum(wal.stat().st_size for wal in wals if wal.exists()),
    }
    return {name: round(size / MB, 1) for name, size in sizes.items()}


def nightly(inbox: Path, db_path: Path, work: Path, full_refresh: bool) -> Build:
    """`idr nightly` on the inbox, measured."""
    command = [sys.executable, *IDR, "nightly", "--events", str(inbox), "--db", str(db_path),
               "--reports", str(work / "reports"), "--logs", str(work / "logs"), "--quiet"]  # fmt: skip
    started = time.time()
    measured = run_measured(command + (["--full-refresh"] if full_refresh else []))
    if RUN_RESULTS.stat().st_mtime < started:
        raise SystemExit(f"benchmark: {RUN_RESULTS} was not written by the nightly run")
    report = json.loads((work / "reports" / "latest.json").read_text())
    publish = round(report["timings_seconds"]["publish_seconds"], 2)
    return Build(measured, node_seconds(RUN_RESULTS), report["warehouse_counts"], warehouse_mb(db_path), publish)


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
    attach_marts(connection, db_path, read_only=True)
    try:
        started = time.monotonic()
        connection.execute(f"create temp table components as {sql}")
        return round(time.monotonic() - started, 3)
    finally:
        connection.close()


def time_scipy(db_path: Path) -> tuple[float, int, int, int]:
    """scipy's connected components on the identity edges: seconds (sparse matrix + components),
    nodes, edges, components."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    connection = duckdb.connect(str(db_path), read_only=True)
    attach_marts(connection, db_path, read_only=True)
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


def stitching_analyses(db_path: Path, target: Path) -> dict[str, object]:
    """The stitching on its own, three ways, against scipy's connected components. Rebuilds the
    stitching model: run it after every other measure of the warehouse."""
    dbt(["run", "--select", STITCH_MODEL, "--full-refresh"], db_path, target)
    stitch_seconds = node_seconds(target / "run_results.json")[STITCH_MODEL]
    stitch_query_seconds = time_analysis(STITCH_ANALYSIS, db_path, target)
    cc_seconds = time_analysis(CC_ANALYSIS, db_path, target)
    scipy_seconds, nodes, edges, components = time_scipy(db_path)
    return {
        "identity_graph": {"identifiers": nodes, "edges": edges, "components": components},
        "stitching_model_seconds": stitch_seconds,
        "stitching_query_seconds": stitch_query_seconds,
        "connected_components_sql_seconds": cc_seconds,
        "scipy_connected_components_seconds": scipy_seconds,
        "stitching_model_over_scipy": round(stitch_seconds / scipy_seconds, 2),
        "stitching_query_over_scipy": round(stitch_query_seconds / scipy_seconds, 2),
        "connected_components_sql_over_scipy": round(cc_seconds / scipy_seconds, 2),
    }


def accuracy_of(db_path: Path, truth: Path) -> dict[str, object]:
    connection = duckdb.connect(str(db_path), read_only=True)
    attach_marts(connection, db_path, read_only=True)
    try:
        return measure(connection, truth).as_dict()
    finally:
        connection.close()


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="about how many events (default 1,000,000)")
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=["ndjson", "ndjson.gz", "parquet"], default="ndjson")
    parser.add_argument("--work", type=Path, help="work folder (default build/benchmark-<events>-<format>)")
    parser.add_argument("--shards", type=int, help="the generator's --shards (default: the generator's)")
    parser.add_argument("--jobs", type=int, help="the generator's --jobs (default: one per core)")
    parser.add_argument(
        "--night-share", type=float, default=0.01, help="share of the days held back for the night (default 0.01)"
    )
    parser.add_argument("--skip-analyses", action="store_true", help="leave out the stitching alone and scipy")
    parser.add_argument("--skip-accuracy", action="store_true", help="leave out the accuracy against the truth")
    return parser.parse_args()


def main() -> None:
    args = parse_arguments()
    default_work = PROJECT_DIR / "build" / f"benchmark-{args.events}-{args.format}"
    work = (args.work or default_work).resolve()
    events_dir, inbox, db_path, target = work / "events", work / "inbox", work / "identity.duckdb", work / "target"

    results: dict[str, object] = {"events_asked": args.events, "format": args.format, "seed": args.seed}
    generated = generate(args, events_dir)
    results["generate"] = generated
    if "seconds" in generated:
        results["generate_seconds"] = generated["seconds"]
    history, night = split_night(events_dir, args.night_share)
    shutil.rmtree(inbox, ignore_errors=True)
    readers = [reader_path(db_path), *(generation_path(db_path, g) for g in GENERATIONS)]
    files = (db_path, marts_path(db_path), *readers)
    for path in (*files, *(file.with_name(file.name + ".wal") for file in files)):
        path.unlink(missing_ok=True)  # a new warehouse, and no readers' copy of an earlier one
    link_into(inbox, history)

    load = run_measured([sys.executable, *IDR, "load", "--events", str(inbox), "--db", str(db_path)])
    build = nightly(inbox, db_path, work, full_refresh=True)
    link_into(inbox, night)
    night_build = nightly(inbox, db_path, work, full_refresh=False)

    night_events = night_build.events - build.events
    results.update(
        {
            "events_loaded": build.events,
            "warehouse_counts": build.counts,
            "load_seconds": load.seconds,
            "load_peak_mb": load.peak_mb,
            "full_build_seconds": build.measured.seconds,
            "full_build_peak_mb": build.measured.peak_mb,
            "full_build_publish_seconds": build.publish_seconds,
            "warehouse_mb_after_full_build": build.warehouse_mb,
            "events_per_second": round(build.events / (load.seconds + build.measured.seconds)),
            "night_files": len(night),
            "night_events": night_events,
            "night_share": round(night_events / night_build.events, 4),
            "night_seconds": night_build.measured.seconds,
            "night_peak_mb": night_build.measured.peak_mb,
            "night_publish_seconds": night_build.publish_seconds,
            "night_over_full_build": round(night_build.measured.seconds / build.measured.seconds, 3),
            "warehouse_mb_after_night": night_build.warehouse_mb,
            "warehouse_counts_after_night": night_build.counts,
        }
    )
    if not args.skip_accuracy:
        results["accuracy"] = accuracy_of(db_path, events_dir / "truth.csv")
    if not args.skip_analyses:
        results.update(stitching_analyses(db_path, target))
    results["node_seconds"] = build.slowest_nodes
    results["night_node_seconds"] = night_build.slowest_nodes
    (work / "benchmark.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (work / "benchmark.md").write_text(table + "\n")
    print(table)


def size_text(sizes: dict[str, float]) -> str:
    marts = f" (of which the marts file {sizes['marts']:,} MB)" if sizes.get("marts") else ""
    return f"{sizes['db']:,} MB{marts}" + (f" + {sizes['wal']:,} MB of WAL" if sizes["wal"] else "")


def markdown(results: dict) -> str:
    """benchmark.md: one row per measure, then the slowest nodes of the full build and of the night."""
    lines = ["| measure | value |", "| --- | --- |", *(f"| {name} | {value} |" for name, value in rows(results))]
    for title, key in (("the full build", "node_seconds"), ("the night", "night_node_seconds")):
        slowest = list(results[key].items())[:TOP_NODES]
        lines += ["", f"Slowest nodes of {title} (seconds, 2 threads):", "", "| node | seconds |", "| --- | --- |"]
        lines += [f"| {name} | {seconds} |" for name, seconds in slowest]
    return "\n".join(lines)


def rows(results: dict) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = [
        ("events loaded (all but the night's)", f"{results['events_loaded']:,} ({results['format']})"),
        ("load", f"{results['load_seconds']} s, peak {results['load_peak_mb']:,} MB"),
        ("full build (dbt)", f"{results['full_build_seconds']} s, peak {results['full_build_peak_mb']:,} MB"),
        ("of which publishing the readers' copy", f"{results['full_build_publish_seconds']} s"),
        ("warehouse after the full build", size_text(results["warehouse_mb_after_full_build"])),
        ("events per second (load + build)", f"{results['events_per_second']:,}"),
        (
            "night: new events",
            f"{results['night_events']:,} ({results['night_share']:.2%}) in {results['night_files']} files",
        ),
        ("night (load + incremental dbt)", f"{results['night_seconds']} s, peak {results['night_peak_mb']:,} MB"),
        ("of which publishing the readers' copy", f"{results['night_publish_seconds']} s"),
        ("night / full build", results["night_over_full_build"]),
        ("warehouse after the night", size_text(results["warehouse_mb_after_night"])),
    ]
    if "identity_graph" in results:
        found += analysis_rows(results)
    if "accuracy" in results:
        found += accuracy_rows(results["accuracy"])
    return found


def analysis_rows(results: dict) -> list[tuple[str, object]]:
    graph = results["identity_graph"]
    return [
        ("identity graph (after the night)", f"{graph['identifiers']:,} identifiers, {graph['edges']:,} edges"),
        ("stitching model alone (merge protection, stable ids)", f"{results['stitching_model_seconds']} s"),
        ("stitching query alone (merge protection)", f"{results['stitching_query_seconds']} s"),
        ("connected components in SQL", f"{results['connected_components_sql_seconds']} s"),
        ("scipy connected_components", f"{results['scipy_connected_components_seconds']} s"),
        ("stitching model / scipy", results["stitching_model_over_scipy"]),
        ("stitching query / scipy", results["stitching_query_over_scipy"]),
        ("connected components SQL / scipy", results["connected_components_sql_over_scipy"]),
    ]


def accuracy_rows(accuracy: dict) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for view in ("identifiers", "events", "events_with_an_owned_identifier"):
        figures = accuracy[view]
        found.append(
            (
                f"accuracy, {view.replace('_', ' ')}",
                f"precision {figures['precision']:.4f}, recall {figures['recall']:.4f}, F1 {figures['f1']:.4f}",
            )
        )
    found.append(
        (
            "over-merged profiles / split people",
            f"{accuracy['over_merged_profiles']} ({accuracy['over_merged_profiles_with_shared_identifier']} "
            f"holding a shared identifier) / {accuracy['split_people']:,} of {accuracy['people']:,}",
        )
    )
    for reason, counts in accuracy["events_by_reason"].items():
        share = counts["on_main_profile"] / counts["events"]
        found.append(
            (f"events assigned by reason {reason}", f"{counts['events']:,}, {share:.2%} on their person's profile")
        )
    return found


if __name__ == "__main__":
    main()
