"""The DuckDB warehouse file: opening it, the landing table the loader writes (see `loading`), and
the counts the driver reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from idr import inputs
from idr.duckdb_settings import connect_config
from idr.summary import WarehouseMissingError, WarehouseSummary, count_marts
from idr.warehouse_files import MARTS_CATALOG, attach_marts, marts_path, quoted_identifier

# Told after each file: its path and the rows it added (None: skipped, its content was loaded before).
FileLoaded = Callable[[Path, int | None], None]


class WarehouseBusyError(RuntimeError):
    """The DuckDB file is open for writing in another process."""


def connect(db_path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file with the memory limit, threads and spill folder of duckdb_settings,
    turning DuckDB's lock conflict into a WarehouseBusyError."""
    if read_only and not db_path.exists():
        raise WarehouseMissingError(f"{db_path} does not exist yet: run `idr run --db {db_path}` first")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = duckdb.connect(str(db_path), read_only=read_only, config=connect_config(db_path))
    except duckdb.IOException as error:
        raise _busy_or(error, db_path) from error
    try:
        attach_marts(connection, db_path, read_only)
    except duckdb.IOException as error:
        connection.close()
        raise _busy_or(error, marts_path(db_path)) from error
    return connection


def _busy_or(error: duckdb.IOException, path: Path) -> Exception:
    """DuckDB's lock conflict on `path` as a WarehouseBusyError; any other error as it is."""
    if "lock" in str(error).lower():
        return WarehouseBusyError(
            f"{path} is in use by another process (DuckDB admits one writer); try again when it has finished"
        )
    return error


def check_writable(db_path: Path, marts: Sequence[str] = ()) -> list[str]:
    """Fail early, with WarehouseBusyError, when another process holds the file or its marts file; then move
    the `marts` of a warehouse built before they had a file of their own (see _move_earlier_marts). The
    tables moved."""
    connection = connect(db_path)
    try:
        return _move_earlier_marts(connection, marts) if marts else []
    finally:
        connection.close()


def _move_earlier_marts(connection: duckdb.DuckDBPyConnection, names: Sequence[str]) -> list[str]:
    """A warehouse built before the marts had a file of their own holds them in its schema main: moved into
    the marts file, once (when that holds none of them), so that the incremental marts and the merge history
    carry on."""
    rows = connection.execute(
        "select table_catalog, table_name from information_schema.tables "
        "where table_schema = 'main' and table_type = 'BASE TABLE'"
    ).fetchall()
    held = {(str(catalog), str(name)) for catalog, name in rows}
    (own,) = connection.execute("select current_database()").fetchone() or ("",)
    earlier = [name for name in names if (own, name) in held]
    if not earlier or any((MARTS_CATALOG, name) in held for name in names):
        return []
    warehouse = f"{quoted_identifier(str(own))}.main"
    for name in earlier:  # one file written per statement (DuckDB writes one file per transaction)
        quoted = quoted_identifier(name)
        connection.execute(f"create table {MARTS_CATALOG}.main.{quoted} as select * from {warehouse}.{quoted}")
    for name in earlier:
        connection.execute(f"drop table {warehouse}.{quoted_identifier(name)}")
    return earlier


def ensure_landing_tables(connection: duckdb.DuckDBPyConnection, schema: str) -> None:
    """The landing table of raw rows and the ledger of loaded files (one row per file content)."""
    connection.execute(f'create schema if not exists "{schema}"')
    connection.execute(
        f"""
        create table if not exists "{schema}".loaded_files (
            sha256 varchar primary key,
            file_path varchar not null,
            size_bytes bigint not null,
            row_count bigint not null,
            load_id varchar not null,
            loaded_at timestamp not null,
            modified_ns bigint
        )
        """
    )
    # ledgers written before modified_ns existed
    connection.execute(f'alter table "{schema}".loaded_files add column if not exists modified_ns bigint')
    connection.execute(
        f"""
        create table if not exists "{schema}".raw_events (
            load_id varchar not null,
            source_file varchar not null,
            source_line bigint,
            -- JSON text compresses about three times better with zstd than with DuckDB's default
            raw_text varchar using compression zstd not null,
            load_error varchar,
            load_error_detail varchar,
            loaded_at timestamp not null
        )
        """
    )


def read_inputs(connection: duckdb.DuckDBPyConnection, schema: str) -> tuple[str | None, bool]:
    """The Segment tables choice remembered in the warehouse (None: never given), and whether any file
    was ever loaded into it."""
    tables = {
        name
        for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    }
    remembered = None
    if inputs.INPUTS_TABLE in tables:
        row = connection.execute(f'select segment_tables from "{schema}".{inputs.INPUTS_TABLE}').fetchone()
        remembered = str(row[0]) if row else None
    has_files = "loaded_files" in tables and bool(
        connection.execute(f'select count(*) from "{schema}".loaded_files').fetchone()[0]  # type: ignore[index]
    )
    return remembered, has_files


def remember_inputs(connection: duckdb.DuckDBPyConnection, schema: str, segment_tables: str) -> None:
    """Remember the Segment tables choice: later runs that give none use it."""
    connection.execute(f'create schema if not exists "{schema}"')
    connection.execute(
        f'create or replace table "{schema}".{inputs.INPUTS_TABLE} as '
        "select ?::varchar as segment_tables, current_timestamp::timestamp as chosen_at",
        [segment_tables],
    )


@dataclass
class LoadCounts:
    files: int = 0
    rows: int = 0
    unreadable_rows: int = 0
    skipped_files: list[str] = field(default_factory=list)


def summarize(connection: duckdb.DuckDBPyConnection, load_id: str | None = None) -> WarehouseSummary:
    """The counts of the built marts (the marts file's schema main); with a load_id, also what became of that
    load's rows."""
    rows = connection.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'main'",
        [MARTS_CATALOG],
    )
    tables = {name for (name,) in rows.fetchall()}

    def query(sql: str, parameters: list[object]) -> list[tuple[object, ...]]:
        return connection.execute(sql, parameters).fetchall()

    return count_marts(query, tables, "", load_id)
