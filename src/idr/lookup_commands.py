"""The read-only commands on one warehouse's published marts: profile, explain, graph and sql.

Each opens the readers' copy (lookup.open_marts), so it works while a night is running; an unknown
identifier is lookup.NotFoundError and a bad argument or query lookup.LookupUsageError (the driver's
exit 2), a never-published warehouse that a build holds WarehouseBusyError (exit 3).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from idr import explain, lookup, lookup_text, query_output, sql_prompt
from idr.dbt_invoke import PROJECT_DIR
from idr.messages import first_line
from idr.progress import is_terminal

DEFAULT_DB = PROJECT_DIR / "warehouse" / "identity.duckdb"
EXIT_BAD_INPUT = 2


def add_lookup_commands(commands: Any) -> None:
    """profile, explain, graph and sql: read-only, on the published marts of --db."""
    profile = commands.add_parser("profile", help="show one profile: traits, identifiers, latest events, merges")
    profile.add_argument(
        "reference", metavar="TYPE:VALUE", help="user_id:abc123def, email:..., profile:prof_... (old ids too)"
    )
    profile.add_argument(
        "--events", type=int, default=10, metavar="N", help="how many of the latest events (default 10)"
    )
    profile.add_argument("--json", action="store_true", help="one JSON document in the shapes of Segment's Profile API")
    explain = commands.add_parser("explain", help="why two identifiers are, or are not, in one profile")
    explain.add_argument("first", metavar="TYPE:VALUE")
    explain.add_argument("second", metavar="TYPE:VALUE")
    graph = commands.add_parser("graph", help="draw a profile's identity graph and its refused links")
    graph.add_argument("reference", metavar="TYPE:VALUE", help="an identifier of the profile, or profile:<id>")
    graph.add_argument("--out", type=Path, required=True, metavar="FILE", help="the picture: .svg, .png or .html")
    sql = commands.add_parser("sql", help="run a read-only query on the marts (a prompt without QUERY)")
    sql.add_argument("query", nargs="?", metavar="QUERY")
    formats = sql.add_mutually_exclusive_group()
    formats.add_argument("--csv", action="store_true", help="CSV with a header row")
    formats.add_argument("--json", action="store_true", help="one JSON object per row")
    for command in (profile, explain, graph, sql):
        command.add_argument(
            "--db", type=Path, help=f"DuckDB warehouse file (default: {DEFAULT_DB.relative_to(PROJECT_DIR)})"
        )
        command.set_defaults(target="duckdb", spark_dir=None)


def profile(args: argparse.Namespace) -> int:
    with lookup.open_marts((args.db or DEFAULT_DB).resolve()) as connection:
        found = lookup.load_profile(connection, lookup.parse_reference(args.reference), events=args.events)
    if args.json:
        print(json.dumps(lookup.profile_api_document(found), indent=2, default=query_output.json_value))
    else:
        print(lookup_text.profile_text(found))
    return 0


def explain_command(args: argparse.Namespace) -> int:
    with lookup.open_marts((args.db or DEFAULT_DB).resolve()) as connection:
        explanation = explain.explain(
            connection, lookup.parse_reference(args.first), lookup.parse_reference(args.second)
        )
    print(lookup_text.explanation_text(explanation))
    return 0


def graph(args: argparse.Namespace) -> int:
    from idr import graph_drawing  # matplotlib: imported by the command that draws, not by every idr start

    with lookup.open_marts((args.db or DEFAULT_DB).resolve()) as connection:
        found = lookup.load_profile(connection, lookup.parse_reference(args.reference), events=0)
        edges = explain.profile_edges(connection, [found.profile_id])
    picture = graph_drawing.draw_profile_graph(found.profile_id, found.identifiers, edges, args.out)
    print(
        f"drew {found.profile_id}: {picture.nodes} identifiers, {picture.links} links, "
        f"{picture.refused_links} refused, into {picture.path}"
    )
    return 0


def sql(args: argparse.Namespace) -> int:
    output = "csv" if args.csv else "json" if args.json else "table"
    with lookup.open_marts((args.db or DEFAULT_DB).resolve(), required=()) as connection:
        if args.query is not None:
            try:
                print(sql_prompt.run_query(connection, args.query, output))
            except duckdb.Error as error:
                raise lookup.LookupUsageError(f"the query failed: {first_line(str(error))}") from None
            return 0
        interactive = is_terminal(sys.stdin)
        lines = _prompted_lines() if interactive else sys.stdin
        failed = sql_prompt.prompt(connection, lines, print, output)
    return 0 if interactive or not failed else EXIT_BAD_INPUT


def _prompted_lines() -> Iterator[str]:
    while True:
        try:
            yield input(sql_prompt.PROMPT)
        except EOFError:
            return


COMMANDS = {"profile": profile, "explain": explain_command, "graph": graph, "sql": sql}
