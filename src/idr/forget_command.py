"""`idr forget`: its command line and what it prints (counts only: never an identifier value)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from idr import forgetting
from idr.runs import ForgetRun


def add_forget_command(commands: Any) -> argparse.ArgumentParser:
    forget = commands.add_parser(
        "forget",
        help="forget people: remove every trace of their profiles, suppress their identifiers (DuckDB)",
        description="Forget the people these identifiers (or profile ids) name: their profiles, events, "
        "identifiers, traits, merges and raw rows are removed, everyone else is resolved again, the file is "
        "rewritten and later events carrying their identifiers are rejected as suppressed (docs/privacy.md).",
    )
    forget.add_argument(
        "identifiers", nargs="*", metavar="TYPE:VALUE", help="user_id:abc, email:jane@example.com, profile:prof_..."
    )
    forget.add_argument(
        "--from-file", type=Path, metavar="FILE", help="a file of requests, one TYPE:VALUE per line (# comments)"
    )
    forget.add_argument("--dry-run", action="store_true", help="print what would be removed, by table; change nothing")
    forget.add_argument("--quiet", action="store_true", help="print only dbt errors and the summary")
    return forget


def requested(args: argparse.Namespace) -> list[str]:
    texts = list(args.identifiers)
    if args.from_file is not None:
        texts += forgetting.read_request_file(args.from_file)
    return texts


def print_forget(run: ForgetRun, dry_run: bool) -> None:
    """The request's counts by table, then what the rebuild did."""
    planned = run.plan
    verb = "would remove" if dry_run else "removed"
    print(
        f"{'dry run: ' if dry_run else ''}request {planned.request_id}: {len(planned.requested)} identifier(s) named, "
        f"{planned.profile_count} profile(s) reached; {verb}:"
    )
    width = max((len(table) for table in planned.rows_by_table), default=0)
    for table, count in planned.rows_by_table.items():
        print(f"  {table.ljust(width)}  {count:>9,}")
    if dry_run:
        return
    if run.result is None:
        return
    timings = run.result.timings
    if run.result.succeeded and not run.plan.reaches_rows:
        print("  nothing in the warehouse holds them: their identifiers are suppressed for later loads, no rebuild")
    elif run.result.succeeded:
        print(
            f"  rebuilt, rewritten and published in {timings.total_seconds:.1f}s "
            f"(dbt {timings.dbt_seconds:.1f}s); every other profile resolved again"
        )
    else:
        print(
            f"idr: the rebuild failed ({run.result.failure}); the request is recorded and its rows are scrubbed: "
            "the next idr run finishes it",
            file=sys.stderr,
        )
