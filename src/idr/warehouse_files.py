"""The files of a DuckDB warehouse: the warehouse file (inputs and intermediate tables) and, beside it,
the marts file that dbt writes the marts into (profiles.yml attaches it as `marts`). Readers get a copy
of the marts file (publishing), so the marts live in a file of their own."""

from __future__ import annotations

from pathlib import Path

import duckdb

MARTS_CATALOG = "marts"  # the name profiles.yml attaches the marts file under
MARTS_PATH_VAR = "IDR_MARTS_PATH"  # the variable profiles.yml reads the marts file's path from
MARTS_SUFFIX = ".marts.duckdb"


def marts_path(db_path: Path) -> Path:
    """The marts file of the warehouse file `db_path`: `identity.duckdb` -> `identity.marts.duckdb`."""
    return db_path.with_name(db_path.stem + MARTS_SUFFIX)


def attach_marts(connection: duckdb.DuckDBPyConnection, db_path: Path, read_only: bool = False) -> bool:
    """Attach the marts file to a connection of the warehouse file, under MARTS_CATALOG, and put it on the
    search path after the warehouse's own schema, so that a mart's plain name finds it. False when a
    read-only connection finds no marts file (nothing built yet)."""
    path = marts_path(db_path)
    if read_only and not path.exists():
        return False
    mode = " (read_only)" if read_only else ""
    connection.execute(f"attach if not exists ? as {MARTS_CATALOG}{mode}", [str(path)])
    connection.execute(f"set search_path = 'main,{MARTS_CATALOG}.main'")
    return True


def quoted_identifier(identifier: str) -> str:
    """A table's name as SQL: in double quotes, its own doubled."""
    return '"' + identifier.replace('"', '""') + '"'
