"""Shared helpers: run the real driver in a subprocess against DuckDB files in temporary folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
IDR = PROJECT_DIR / "scripts" / "idr.py"
SEEDS_DIR = PROJECT_DIR / "seeds"
FIXTURES_DIR = PROJECT_DIR / "tests" / "fixtures"

sys.path.insert(0, str(PROJECT_DIR / "scripts"))


def run_idr(*args: str | Path, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
    """Run `scripts/idr.py` as a user would; with `expect`, assert its exit code."""
    result = subprocess.run(
        [sys.executable, str(IDR), *map(str, args)], capture_output=True, text=True, cwd=PROJECT_DIR, check=False
    )
    if expect is not None:
        assert result.returncode == expect, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    """The driver's refusal: one line, `idr: ...`, holding every fragment."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("idr: ")
    for fragment in fragments:
        assert fragment in lines[0]


def query(db_path: Path, sql: str, parameters: list[object] | None = None) -> list[tuple]:
    connection = duckdb.connect(str(db_path), read_only=True)
    try:
        return connection.execute(sql, parameters or []).fetchall()
    finally:
        connection.close()


def readers_differences(db_path: Path) -> dict[str, int]:
    """Per table of the readers' copy of `db_path`, the rows in one of it and the warehouse's table of
    that name but not in the other (every column compared, duplicates counted)."""
    from idrlib.publishing import reader_path  # (scripts/ joins the path above)

    connection = duckdb.connect(str(reader_path(db_path)), read_only=True)
    try:
        connection.execute("attach ? as warehouse (read_only)", [str(db_path)])
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_catalog = current_database()"
            ).fetchall()
        ]
        found = {}
        for table in tables:
            (count,) = connection.execute(
                f'select (select count(*) from (from warehouse.main."{table}" except all from main."{table}"))'
                f' + (select count(*) from (from main."{table}" except all from warehouse.main."{table}"))'
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
