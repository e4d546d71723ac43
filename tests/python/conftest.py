"""Shared helpers: run the real driver against DuckDB files in temporary folders."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import duckdb
import pytest

from idr import cli
from idr.publishing import reader_path
from idr.warehouse_files import attach_marts, marts_path

PROJECT_DIR = Path(__file__).resolve().parents[2]
IDR = ["-m", "idr"]  # the installed driver, as `python -m idr`
SEEDS_DIR = PROJECT_DIR / "seeds"
FIXTURES_DIR = PROJECT_DIR / "tests" / "fixtures"
HOLD_FOR_WRITING = (
    "import sys, duckdb; connection = duckdb.connect(sys.argv[1]); print('holding', flush=True); sys.stdin.readline()"
)


@contextmanager
def held_for_writing(db_path: Path) -> Iterator[None]:
    """Another process holds `db_path` open for writing (as a night does) while the block runs."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOR_WRITING, str(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield
    finally:
        holder.stdin.close()
        holder.wait()


def run_idr(*args: str | Path, expect: int | None = 0, in_process: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the `idr` command as a user would, with its output captured; with `expect`, assert its exit
    code. In this process by default (the driver's `main`, the environment restored after it); with
    `in_process=False` as a command of its own (`python -m idr`)."""
    arguments = [*map(str, args)]
    if in_process:
        result = _run_in_process(arguments)
    else:
        result = subprocess.run(
            [sys.executable, *IDR, *arguments], capture_output=True, text=True, cwd=PROJECT_DIR, check=False
        )
    if expect is not None:
        assert result.returncode == expect, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def _run_in_process(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    environment = dict(os.environ)
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):
            try:
                code = cli.main(arguments)
            except SystemExit as exit_:  # argparse's usage errors
                code = exit_.code if isinstance(exit_.code, int) else 2
            except Exception:  # as the interpreter would end the command: exit 1 with the traceback
                traceback.print_exc()
                code = 1
    finally:
        os.environ.clear()
        os.environ.update(environment)
    return subprocess.CompletedProcess(["idr", *arguments], code, stdout.getvalue(), stderr.getvalue())


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    """The driver's refusal: one line, `idr: ...`, holding every fragment."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("idr: ")
    for fragment in fragments:
        assert fragment in lines[0]


def copy_warehouse(source: Path, destination: Path) -> None:
    """Copy a warehouse: its file and its marts file."""
    shutil.copyfile(source, destination)
    shutil.copyfile(marts_path(source), marts_path(destination))


def query(db_path: Path, sql: str, parameters: list[object] | None = None) -> list[tuple]:
    """`sql` on the warehouse file, with its marts file attached (a mart's plain name finds it)."""
    connection = duckdb.connect(str(db_path), read_only=True)
    try:
        attach_marts(connection, db_path, read_only=True)
        return connection.execute(sql, parameters or []).fetchall()
    finally:
        connection.close()


def readers_differences(db_path: Path) -> dict[str, int]:
    """Per table of the readers' copy of `db_path`, the rows in one of it and the warehouse's table of
    that name (in the marts file, else in the warehouse file) but not in the other (every column compared,
    duplicates counted)."""
    connection = duckdb.connect(str(reader_path(db_path)), read_only=True)
    try:
        connection.execute("attach ? as warehouse_file (read_only)", [str(db_path)])
        connection.execute("attach ? as marts_file (read_only)", [str(marts_path(db_path))])
        connection.execute(
            "create temp view warehouse_tables as select table_catalog, table_name from information_schema.tables "
            "where table_catalog in ('warehouse_file', 'marts_file') and table_schema = 'main'"
        )
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_catalog = current_database()"
            ).fetchall()
        ]
        found = {}
        for table in tables:
            (catalog,) = connection.execute(
                "select min(table_catalog) from warehouse_tables where table_name = ?", [table]
            ).fetchone() or ("marts_file",)
            warehouse = f'{catalog or "marts_file"}.main."{table}"'
            (count,) = connection.execute(
                f'select (select count(*) from (from {warehouse} except all from main."{table}"))'
                f' + (select count(*) from (from main."{table}" except all from {warehouse}))'
            ).fetchone() or (None,)
            found[table] = count
        return found
    finally:
        connection.close()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled demo, built once for the session exactly as the README's first command builds it."""
    db_path = tmp_path_factory.mktemp("demo") / "identity.duckdb"
    run_idr("run", "--db", db_path, "--quiet")
    return db_path
