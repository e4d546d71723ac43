#!/usr/bin/env python3
"""Identity resolution driver: load Segment events, build the warehouse with dbt, report.

    scripts/idr.py run                          build the bundled demo (dbt seeds)
    scripts/idr.py run --events DIR_OR_FILE...  load NDJSON / JSON-array files (.gz too), then build
    scripts/idr.py load --events DIR_OR_FILE... only load the files not loaded before (no build)
    scripts/idr.py nightly --events DIR         load the folder's new files, build, write a run report
    scripts/idr.py schedule --at 02:30 --events DIR [--install]   a crontab entry for the nightly run
    scripts/idr.py report                       print the summary of an existing warehouse

Exit codes: 0 success, 1 the build or a data test failed, 2 bad input or usage, 3 the warehouse is
in use by another run.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from idrlib import warehouse
from idrlib.dbt_invoke import PROJECT_DIR, DbtOutcome, run_dbt
from idrlib.event_files import EventFileError, discover, read_rows, sha256_of
from idrlib.report import Timings, format_summary
from idrlib.run_lock import AlreadyRunningError, run_lock
from idrlib.run_report import build_report, write_report
from idrlib.scheduling import ScheduleError, cron_entry, install
from idrlib.warehouse import LoadCounts

DEFAULT_DB = PROJECT_DIR / "warehouse" / "identity.duckdb"
EXIT_BUILD_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUSY = 3


def project_vars() -> dict[str, object]:
    with (PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle).get("vars", {})


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="idr.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="load events (if given) and run `dbt build`")
    run.add_argument(
        "--events", nargs="+", type=Path, metavar="PATH", help="event files or directories (NDJSON, JSON arrays, .gz)"
    )
    run.add_argument(
        "--segment-tables",
        choices=["seeds", "source", "none"],
        help="Segment warehouse tables to include: the demo seeds (default without --events), "
        "your Segment schema, or none (default with --events)",
    )

    load = commands.add_parser("load", help="load event files not loaded before into the landing table, no build")
    load.add_argument(
        "--events", nargs="+", type=Path, required=True, metavar="PATH", help="event files or directories"
    )

    nightly = commands.add_parser(
        "nightly", help="load the files of a folder not loaded before, build, write a JSON run report"
    )
    nightly.add_argument("--events", type=Path, required=True, metavar="DIR", help="folder the day's files arrive in")
    nightly.add_argument("--segment-tables", choices=["seeds", "source", "none"], default="none", help="default: none")
    nightly.add_argument(
        "--reports", type=Path, default=PROJECT_DIR / "reports", help="folder for run reports (default: reports/)"
    )
    nightly.add_argument(
        "--logs", type=Path, default=PROJECT_DIR / "logs", help="folder for dbt logs, one per run (default: logs/)"
    )
    for command in (run, nightly):
        command.add_argument("--full-refresh", action="store_true", help="rebuild every table from scratch")
        command.add_argument("--quiet", action="store_true", help="print only dbt errors and the summary")

    report = commands.add_parser("report", help="print the summary of an existing warehouse")

    schedule = commands.add_parser("schedule", help="print (or --install) a crontab entry for the nightly run")
    schedule.add_argument("--at", required=True, metavar="HH:MM", help="time of day, the machine's local time")
    schedule.add_argument("--events", type=Path, required=True, metavar="DIR", help="folder the day's files arrive in")
    schedule.add_argument(
        "--log-file", type=Path, default=PROJECT_DIR / "logs" / "nightly.log", help="where cron writes the output"
    )
    schedule.add_argument("--install", action="store_true", help="install the entry in your crontab")

    for command in (run, load, nightly, report, schedule):
        command.add_argument(
            "--db",
            type=Path,
            default=DEFAULT_DB,
            help=f"DuckDB warehouse file (default: {DEFAULT_DB.relative_to(PROJECT_DIR)})",
        )
    return parser.parse_args(argv)


@dataclass
class RunResult:
    run_id: str
    load: LoadCounts | None = None
    outcome: DbtOutcome | None = None
    summary: warehouse.WarehouseSummary | None = None
    timings: Timings = field(default_factory=Timings)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


def load_events(db_path: Path, files: list[Path], load_id: str) -> LoadCounts:
    """Append the files not loaded before to the landing table (the caller holds the run lock)."""
    landing_schema = str(project_vars().get("idr_landing_schema", "landing"))
    connection = warehouse.connect(db_path)
    try:
        warehouse.ensure_landing_tables(connection, landing_schema)
        return warehouse.load_files(connection, landing_schema, load_id, files, sha256_of, read_rows)
    finally:
        connection.close()


def build_warehouse(
    db_path: Path,
    files: list[Path],
    segment_tables: str,
    full_refresh: bool,
    quiet: bool,
    log_path: Path | None = None,
    unit_tests: bool = True,
) -> RunResult:
    """Under the run lock: load the files not loaded before, run `dbt build`, read the counts."""
    started = time.monotonic()
    result = RunResult(run_id=new_run_id())
    with run_lock(db_path):
        warehouse.check_writable(db_path)
        if files:
            result.load = load_events(db_path, files, result.run_id)
            result.timings.load_seconds = time.monotonic() - started
        command = ["build", *(["--full-refresh"] if full_refresh else [])]
        if not unit_tests:  # they test the SQL, not the data: development and CI run them
            command += ["--exclude-resource-type", "unit_test"]
        result.outcome = run_dbt(command, db_path, {"idr_segment_tables": segment_tables}, quiet, log_path)
        result.timings.dbt_seconds = result.outcome.seconds
        if result.outcome.success:
            connection = warehouse.connect(db_path, read_only=True)
            try:
                result.summary = warehouse.summarize(connection, result.run_id if result.load else None)
            finally:
                connection.close()
    result.timings.total_seconds = time.monotonic() - started
    return result


def run(args: argparse.Namespace) -> int:
    files = discover(args.events) if args.events else []
    segment_tables = args.segment_tables or ("none" if args.events else "seeds")
    result = build_warehouse(args.db.resolve(), files, segment_tables, args.full_refresh, args.quiet)
    return _finish(args.db.resolve(), result)


def load(args: argparse.Namespace) -> int:
    files = discover(args.events)
    db_path = args.db.resolve()
    started = time.monotonic()
    with run_lock(db_path):
        warehouse.check_writable(db_path)
        counts = load_events(db_path, files, new_run_id())
    print(
        f"loaded {counts.rows:,} rows ({counts.unreadable_rows:,} unreadable) from {counts.files} file(s) "
        f"into {db_path} in {time.monotonic() - started:.1f}s; {len(counts.skipped_files)} file(s) loaded before"
    )
    return 0


def nightly(args: argparse.Namespace) -> int:
    started_at = datetime.now(UTC)
    db_path = args.db.resolve()
    if not args.events.is_dir():
        raise EventFileError(f"{args.events}: no such directory")
    try:
        files = discover([args.events])
    except EventFileError:
        files = []  # nothing arrived: the build still runs, so an interrupted run is completed
    log_path = args.logs.resolve() / started_at.strftime("%Y%m%dT%H%M%SZ")
    try:
        result = build_warehouse(
            db_path, files, args.segment_tables, args.full_refresh, args.quiet, log_path, unit_tests=False
        )
    except (AlreadyRunningError, warehouse.WarehouseBusyError):
        raise  # another run is in charge; it writes its own report
    except Exception as error:
        failed = RunResult(run_id=started_at.strftime("%Y%m%dT%H%M%SZ-failed"))
        _write_nightly_report(args, db_path, started_at, failed, f"{type(error).__name__}: {error}")
        raise
    succeeded = result.outcome is not None and result.outcome.success
    error = None if succeeded else f"dbt build failed: {result.outcome.reason if result.outcome else 'not run'}"
    report_path = _write_nightly_report(args, db_path, started_at, result, error)
    code = _finish(db_path, result)
    print(f"  report     {report_path}")
    return code


def _write_nightly_report(
    args: argparse.Namespace, db_path: Path, started_at: datetime, result: RunResult, error: str | None
) -> Path:
    report = build_report(
        run_id=result.run_id,
        db_path=db_path,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        status="failed" if error else "succeeded",
        error=error,
        load=result.load,
        outcome=result.outcome,
        summary=result.summary,
        timings=result.timings,
    )
    return write_report(report, args.reports.resolve())


def _finish(db_path: Path, result: RunResult) -> int:
    if result.outcome is None or not result.outcome.success:
        reason = result.outcome.reason if result.outcome else "not run"
        print(f"idr: dbt build failed: {reason}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    assert result.summary is not None
    print(format_summary(str(db_path), result.summary, result.timings, result.load))
    return 0


def report(args: argparse.Namespace) -> int:
    started = time.monotonic()
    connection = warehouse.connect(args.db.resolve(), read_only=True)
    try:
        summary = warehouse.summarize(connection)
    finally:
        connection.close()
    print(format_summary(str(args.db.resolve()), summary, Timings(total_seconds=time.monotonic() - started)))
    return 0


def schedule(args: argparse.Namespace) -> int:
    db_path = args.db.resolve()
    entry = cron_entry(args.at, PROJECT_DIR, args.events.resolve(), db_path, args.log_file.resolve())
    if args.install:
        args.log_file.resolve().parent.mkdir(parents=True, exist_ok=True)
        install(entry, db_path)
        print(f"installed in your crontab:\n{entry}")
    else:
        print(entry)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    commands = {"run": run, "load": load, "nightly": nightly, "report": report, "schedule": schedule}
    try:
        return commands[args.command](args)
    except (EventFileError, warehouse.WarehouseMissingError, ScheduleError) as error:
        print(f"idr: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (AlreadyRunningError, warehouse.WarehouseBusyError) as error:
        print(f"idr: {error}", file=sys.stderr)
        return EXIT_BUSY


if __name__ == "__main__":
    sys.exit(main())
