#!/usr/bin/env python3
"""Identity resolution driver: load Segment events, build the warehouse with dbt, report.

    scripts/idr.py run                          build the bundled demo (dbt seeds)
    scripts/idr.py run --events DIR_OR_FILE...  load NDJSON / JSON-array files (.gz too), then build
    scripts/idr.py report                       print the summary of an existing warehouse

Exit codes: 0 success, 1 the build or a data test failed, 2 bad input or usage, 3 the warehouse is
in use by another run.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from idrlib import warehouse
from idrlib.dbt_invoke import PROJECT_DIR, run_dbt
from idrlib.event_files import EventFileError, RawRow, discover, read_rows
from idrlib.report import Timings, format_summary
from idrlib.run_lock import AlreadyRunningError, run_lock

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
        "--events",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="event files or directories (NDJSON, JSON arrays, .gz of either)",
    )
    run.add_argument(
        "--segment-tables",
        choices=["seeds", "source", "none"],
        help="Segment warehouse tables to include: the demo seeds (default without --events), "
        "your Segment schema, or none (default with --events)",
    )
    run.add_argument("--full-refresh", action="store_true", help="rebuild every table from scratch")
    run.add_argument("--quiet", action="store_true", help="print only dbt errors and the summary")

    report = commands.add_parser("report", help="print the summary of an existing warehouse")
    for command in (run, report):
        command.add_argument(
            "--db",
            type=Path,
            default=DEFAULT_DB,
            help=f"DuckDB warehouse file (default: {DEFAULT_DB.relative_to(PROJECT_DIR)})",
        )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    timings = Timings()
    db_path = args.db.resolve()
    files = discover(args.events) if args.events else []
    segment_tables = args.segment_tables or ("none" if args.events else "seeds")
    load_id = None
    load = None
    with run_lock(db_path):
        warehouse.check_writable(db_path)
        if files:
            load_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
            landing_schema = str(project_vars().get("idr_landing_schema", "landing"))
            connection = warehouse.connect(db_path)
            try:
                warehouse.ensure_landing_table(connection, landing_schema)
                load = warehouse.load_rows(connection, landing_schema, load_id, _all_rows(files))
                load.files = len(files)
            finally:
                connection.close()
            timings.load_seconds = time.monotonic() - started
        command = ["build", *(["--full-refresh"] if args.full_refresh else [])]
        outcome = run_dbt(command, db_path, {"idr_segment_tables": segment_tables}, quiet=args.quiet)
        timings.dbt_seconds = outcome.seconds
        if not outcome.success:
            print(f"idr: dbt build failed: {outcome.reason}", file=sys.stderr)
            return EXIT_BUILD_FAILED
        connection = warehouse.connect(db_path, read_only=True)
        try:
            summary = warehouse.summarize(connection, load_id)
        finally:
            connection.close()
    timings.total_seconds = time.monotonic() - started
    print(format_summary(str(db_path), summary, timings, load))
    return 0


def _all_rows(files: list[Path]) -> Iterator[RawRow]:
    for path in files:
        yield from read_rows(path)


def report(args: argparse.Namespace) -> int:
    started = time.monotonic()
    connection = warehouse.connect(args.db.resolve(), read_only=True)
    try:
        summary = warehouse.summarize(connection)
    finally:
        connection.close()
    print(format_summary(str(args.db.resolve()), summary, Timings(total_seconds=time.monotonic() - started)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return {"run": run, "report": report}[args.command](args)
    except (EventFileError, warehouse.WarehouseMissingError) as error:
        print(f"idr: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (AlreadyRunningError, warehouse.WarehouseBusyError) as error:
        print(f"idr: {error}", file=sys.stderr)
        return EXIT_BUSY


if __name__ == "__main__":
    sys.exit(main())
