"""Identity resolution driver: load Segment events, build the warehouse with dbt, report.

    idr run                          build the bundled demo (dbt seeds) in a new warehouse
    idr run --events DIR_OR_FILE...  load NDJSON / JSON-array files (.gz too), then build
    idr load --events DIR_OR_FILE... only load the files not loaded before (no build)
    idr nightly --events DIR         load the folder's new files, build, write a run report
    idr schedule --at 02:30 --events DIR [--install]   a crontab entry for the nightly run
    idr report                       print the summary of an existing warehouse
    idr profile TYPE:VALUE [--json]  one profile: traits, identifiers, latest events, merges
    idr explain TYPE:VALUE TYPE:VALUE  why two identifiers are, or are not, in one profile
    idr graph TYPE:VALUE --out F.svg a picture of a profile's identity graph (.svg, .png, .html)
    idr sql ["QUERY"] [--csv|--json] a read-only query on the marts (a prompt without QUERY)
    idr forget TYPE:VALUE... [--from-file F] [--dry-run]  forget people everywhere and suppress them

Every command builds on the embedded DuckDB file (--db) by default; with --target spark, on a local
Spark warehouse (--spark-dir) through dbt-spark (`make spark-setup` installs it).

DuckDB's memory limit, threads and spill folder: --memory-limit, --threads, --temp-dir (run, load,
nightly, schedule), else $IDR_MEMORY_LIMIT, $IDR_THREADS, $IDR_TEMP_DIR, else the defaults that
`idr run --help` names.
At a terminal a status line shows the files and rows loaded and the dbt node being built (not with
--quiet, nor when the output goes to a file or a pipe).

Exit codes: 0 success, 1 the build or a data test failed, 2 bad input or usage, 3 the warehouse is
in use by another run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import duckdb

from idr import duckdb_settings, forget_command, forgetting, inputs, lookup, lookup_commands, warehouse
from idr.dbt_invoke import PROJECT_DIR
from idr.duckdb_settings import SettingsError
from idr.event_files import EventFileError, discover
from idr.messages import first_line
from idr.progress import is_terminal
from idr.report import Timings, format_summary
from idr.run_lock import AlreadyRunningError, FolderNotWritableError
from idr.runs import RunResult, build_warehouse, forget_people, load_new_files, run_nightly
from idr.scheduling import ScheduleError, cron_entry, install
from idr.spark_session import SparkUnavailableError
from idr.spark_warehouse import LandingTableError
from idr.summary import WarehouseMissingError
from idr.targets import DuckDBTarget, SparkTarget, Target

DEFAULT_DB = lookup_commands.DEFAULT_DB
DEFAULT_SPARK_DIR = PROJECT_DIR / "warehouse" / "spark"
EXIT_BUILD_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUSY = 3


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="idr", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="load events (if given) and run `dbt build`")
    run.add_argument(
        "--events", nargs="+", type=Path, metavar="PATH", help="event files or directories (NDJSON, JSON arrays, .gz)"
    )
    run.add_argument(
        "--segment-tables",
        choices=inputs.SEGMENT_TABLE_CHOICES,
        help="Segment warehouse tables to include: the demo seeds, your Segment schema, or none; remembered "
        "by the warehouse (default: the choice remembered, else none once files were loaded, else the demo)",
    )

    load = commands.add_parser("load", help="load event files not loaded before into the landing table, no build")
    load.add_argument(
        "--events", nargs="+", type=Path, required=True, metavar="PATH", help="event files or directories"
    )

    nightly = commands.add_parser(
        "nightly", help="load the files of a folder not loaded before, build, write a JSON run report"
    )
    nightly.add_argument("--events", type=Path, required=True, metavar="DIR", help="folder the day's files arrive in")
    nightly.add_argument(
        "--segment-tables",
        choices=inputs.SEGMENT_TABLE_CHOICES,
        help="as for run (default: the choice remembered, else none)",
    )
    nightly.add_argument(
        "--reports", type=Path, default=PROJECT_DIR / "reports", help="folder for run reports (default: reports/)"
    )
    nightly.add_argument(
        "--logs", type=Path, default=PROJECT_DIR / "logs", help="folder for dbt logs, one per run (default: logs/)"
    )
    for command in (run, nightly):
        command.add_argument("--full-refresh", action="store_true", help="rebuild every table from scratch")
        command.add_argument(
            "--quiet", action="store_true", help="print only dbt errors and the summary (and no progress)"
        )

    report = commands.add_parser("report", help="print the summary of an existing warehouse")

    schedule = commands.add_parser("schedule", help="print (or --install) a crontab entry for the nightly run")
    schedule.add_argument("--at", required=True, metavar="HH:MM", help="time of day, the machine's local time")
    schedule.add_argument("--events", type=Path, required=True, metavar="DIR", help="folder the day's files arrive in")
    schedule.add_argument(
        "--log-file", type=Path, default=PROJECT_DIR / "logs" / "nightly.log", help="where cron writes the output"
    )
    schedule.add_argument("--install", action="store_true", help="install the entry in your crontab")

    forget = forget_command.add_forget_command(commands)
    for command in (run, load, nightly, schedule, forget):
        add_duckdb_options(command)
    lookup_commands.add_lookup_commands(commands)

    for command in (run, load, nightly, report, schedule, forget):
        command.add_argument(
            "--target",
            choices=["duckdb", "spark"],
            default="duckdb",
            help="the dbt target to build on: the embedded DuckDB file (default) or Spark (make spark-setup)",
        )
        command.add_argument(
            "--db", type=Path, help=f"DuckDB warehouse file (default: {DEFAULT_DB.relative_to(PROJECT_DIR)})"
        )
        command.add_argument(
            "--spark-dir",
            type=Path,
            help="with --target spark: folder of the Spark tables and metastore "
            f"(default: $IDR_SPARK_DIR, else {DEFAULT_SPARK_DIR.relative_to(PROJECT_DIR)})",
        )
    return parser.parse_args(argv)


def add_duckdb_options(command: argparse.ArgumentParser) -> None:
    """--memory-limit, --threads, --temp-dir: DuckDB's settings (exported as IDR_* for dbt too)."""
    command.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help=f"DuckDB's memory limit, such as 8GB or 50%% "
        f"(default: ${duckdb_settings.MEMORY_LIMIT_VAR}, else {duckdb_settings.DEFAULT_MEMORY_LIMIT})",
    )
    command.add_argument(
        "--threads",
        metavar="N",
        help=f"threads of DuckDB, and of dbt "
        f"(default: ${duckdb_settings.THREADS_VAR}, else {duckdb_settings.DEFAULT_THREADS})",
    )
    command.add_argument(
        "--temp-dir",
        type=Path,
        metavar="DIR",
        help=f"folder DuckDB spills to beyond its memory limit "
        f"(default: ${duckdb_settings.TEMP_DIR_VAR}, else the --db file's path + {duckdb_settings.TEMP_DIR_SUFFIX})",
    )


def duckdb_environment(args: argparse.Namespace) -> dict[str, str]:
    """DuckDB's settings for this command as IDR_* variables: the options given, else the variables
    already set, else the defaults; checked (SettingsError)."""
    db_path = None if args.target == "spark" else (args.db or DEFAULT_DB).resolve()
    temp_dir = getattr(args, "temp_dir", None)
    return duckdb_settings.resolve(
        db_path,
        memory_limit=getattr(args, "memory_limit", None),
        threads=getattr(args, "threads", None),
        temp_dir=temp_dir.resolve() if temp_dir is not None else None,
    )


def duckdb_arguments(args: argparse.Namespace) -> list[str]:
    """The DuckDB options given on the command line, for the nightly entry to repeat."""
    given = [
        ("--memory-limit", args.memory_limit),
        ("--threads", args.threads),
        ("--temp-dir", args.temp_dir.resolve() if args.temp_dir is not None else None),
    ]
    return [part for option, value in given if value is not None for part in (option, str(value))]


def progress_wanted(quiet: bool) -> bool:
    """Progress lines only for a person at a terminal: stdout and stderr both a terminal, no --quiet."""
    return not quiet and is_terminal(sys.stdout) and is_terminal(sys.stderr)


class UsageError(Exception):
    """Options that do not go together."""


def make_target(args: argparse.Namespace) -> Target:
    if args.target == "spark":
        if args.db is not None:
            raise UsageError("--db names a DuckDB file; with --target spark, name the folder with --spark-dir")
        spark_dir = args.spark_dir or Path(os.environ.get("IDR_SPARK_DIR", DEFAULT_SPARK_DIR))
        return SparkTarget(spark_dir.resolve(), PROJECT_DIR)
    if args.spark_dir is not None:
        raise UsageError("--spark-dir is for --target spark; the DuckDB target's file is named with --db")
    return DuckDBTarget((args.db or DEFAULT_DB).resolve())


def run(args: argparse.Namespace) -> int:
    files = discover(args.events) if args.events else []
    target = make_target(args)
    result = build_warehouse(
        target, files, args.segment_tables, args.full_refresh, args.quiet, progress=progress_wanted(args.quiet)
    )
    return _finish(target, result)


def load(args: argparse.Namespace) -> int:
    files = discover(args.events)
    target = make_target(args)
    started = time.monotonic()
    counts = load_new_files(target, files, progress_wanted(quiet=False))
    print(
        f"loaded {counts.rows:,} rows ({counts.unreadable_rows:,} unreadable) from {counts.files} file(s) "
        f"into {target.location} in {time.monotonic() - started:.1f}s; "
        f"{len(counts.skipped_files)} file(s) loaded before"
    )
    return 0


def nightly(args: argparse.Namespace) -> int:
    target = make_target(args)
    night = run_nightly(
        target,
        args.events,
        args.reports.resolve(),
        args.logs.resolve(),
        args.segment_tables,
        args.full_refresh,
        args.quiet,
        progress_wanted(args.quiet),
    )
    code = _finish(target, night.result)
    print(f"  report     {night.report_path}")
    return code


def _finish(target: Target, result: RunResult) -> int:
    if not result.succeeded:
        reason = result.failure
        if duckdb_settings.is_lock_conflict(reason):
            print(
                f"idr: {target.location} was opened by another process during the build (readers belong on "
                f"the published copy, see docs/inputs.md); the build stopped: {reason}",
                file=sys.stderr,
            )
            return EXIT_BUSY
        print(f"idr: dbt build failed: {reason}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    assert result.summary is not None
    print(format_summary(target.location, result.summary, result.timings, result.load))
    if result.publication is not None:
        print(f"  readers    {result.publication.path} (the marts, for BI tools and notebooks)")
    return 0


def forget(args: argparse.Namespace) -> int:
    if args.target == "spark":
        raise UsageError(
            "idr forget works on the DuckDB target only: Spark's parquet tables cannot delete rows in place "
            "(docs/privacy.md)"
        )
    references = forgetting.parse_requests(forget_command.requested(args))
    target = make_target(args)
    assert isinstance(target, DuckDBTarget)
    forget_run = forget_people(target, references, args.dry_run, args.quiet, progress_wanted(args.quiet))
    forget_command.print_forget(forget_run, args.dry_run)
    if forget_run.result is None or forget_run.result.succeeded:
        return 0
    return EXIT_BUSY if duckdb_settings.is_lock_conflict(forget_run.result.failure) else EXIT_BUILD_FAILED


def report(args: argparse.Namespace) -> int:
    started = time.monotonic()
    target = make_target(args)
    try:
        summary = target.summarize()
    finally:
        target.close()
    print(format_summary(target.location, summary, Timings(total_seconds=time.monotonic() - started)))
    return 0


def schedule(args: argparse.Namespace) -> int:
    if not args.events.is_dir():
        raise EventFileError(f"{args.events}: no such directory (the folder the nightly run reads)")
    target = make_target(args)
    warehouse_args = target.arguments()  # kept last: cron_entry marks the entry with its last argument
    entry = cron_entry(
        args.at, PROJECT_DIR, args.events.resolve(), [*duckdb_arguments(args), *warehouse_args], args.log_file.resolve()
    )
    if args.install:
        args.log_file.resolve().parent.mkdir(parents=True, exist_ok=True)
        install(entry, warehouse_args)
        print(f"installed in your crontab:\n{entry}")
    else:
        print(entry)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    commands = {
        "run": run,
        "load": load,
        "nightly": nightly,
        "report": report,
        "schedule": schedule,
        "forget": forget,
        **lookup_commands.COMMANDS,
    }
    try:
        os.environ.update(duckdb_environment(args))  # read by profiles.yml and by the driver's connections
        return commands[args.command](args)
    except (
        EventFileError,
        WarehouseMissingError,
        ScheduleError,
        UsageError,
        SettingsError,
        SparkUnavailableError,
        LandingTableError,
        lookup.NotFoundError,
        lookup.LookupUsageError,
    ) as error:
        print(f"idr: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (AlreadyRunningError, warehouse.WarehouseBusyError) as error:
        print(f"idr: {error}", file=sys.stderr)
        return EXIT_BUSY
    except FolderNotWritableError as error:
        print(f"idr: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # the reader of the output went away (`idr report | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, duckdb.Error) as error:
        print(f"idr: the run stopped: {first_line(str(error))}", file=sys.stderr)
        return EXIT_BUILD_FAILED


if __name__ == "__main__":
    sys.exit(main())
