"""`idr sql`: read-only queries on the published marts, one from the command line or a prompt."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import duckdb

from idr.messages import first_line
from idr.query_output import format_rows

PROMPT = "idr> "
QUIT = {".quit", ".exit", "\\q", "quit", "exit"}


def run_query(connection: duckdb.DuckDBPyConnection, query: str, output: str = "table") -> str:
    """The query's result in `output` format (raises duckdb.Error with DuckDB's message)."""
    result = connection.execute(query)
    if result.description is None:
        return "ok"
    names = [column[0] for column in result.description]
    return format_rows(names, result.fetchall(), output)


def prompt(
    connection: duckdb.DuckDBPyConnection, lines: Iterable[str], write: Callable[[str], None], output: str = "table"
) -> int:
    """Reads statements (each ending with `;`, as in DuckDB's own shell; the last one may leave it out)
    until .quit or the end of input, and writes each result or error; returns how many failed."""
    failed = 0
    pending: list[str] = []

    def execute(statement: str) -> None:
        nonlocal failed
        try:
            write(run_query(connection, statement, output))
        except duckdb.Error as error:
            failed += 1
            write(f"error: {first_line(str(error))}")

    for line in lines:
        text = line.strip()
        if not pending and text.lower() in QUIT:
            break
        if text:
            pending.append(text)
        if pending and pending[-1].endswith(";"):
            execute(" ".join(pending).rstrip(";"))
            pending = []
    if pending:
        execute(" ".join(pending).rstrip(";"))
    return failed
