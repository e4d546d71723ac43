"""The DuckDB warehouse file: opening it, the landing table the loader writes, and the counts the
driver reports. All SQL the driver itself runs lives here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import duckdb

from idrlib.event_files import RawRow
from idrlib.summary import WarehouseMissingError, WarehouseSummary, count_marts

BATCH_ROWS = 100_000

# Told after each file: its path and the rows it added (None: skipped, its content was loaded before).
FileLoaded = Callable[[Path, int | None], None]


class WarehouseBusyError(RuntimeError):
    """The DuckDB file is open for writing in another process."""


def connect(db_path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, turning DuckDB's lock conflict into a WarehouseBusyError."""
    if read_only and not db_path.exists():
        raise WarehouseMissingError(f"{db_path} does not exist yet: run `scripts/idr.py run --db {db_path}` first")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseBusyError(
                f"{db_path} is in use by another process (DuckDB admits one writer); try again when it has finished"
            ) from error
        raise


def check_writable(db_path: Path) -> None:
    """Fail early, with WarehouseBusyError, when another process holds the file."""
    connect(db_path).close()


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
            raw_text varchar not null,
            load_error varchar,
            load_error_detail varchar,
            loaded_at timestamp not null
        )
        """
    )


@dataclass
class LoadCounts:
    files: int = 0
    rows: int = 0
    unreadable_rows: int = 0
    skipped_files: list[str] = field(default_factory=list)


def load_files(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    load_id: str,
    files: Iterable[Path],
    checksum: Callable[[Path], str],
    read: Callable[[Path], Iterable[RawRow]],
    on_file: FileLoaded | None = None,
) -> LoadCounts:
    """Append the rows of every file whose content was never loaded, and record each in the ledger.
    A file whose path, size and modification time are in the ledger is skipped without being read;
    any other file is loaded unless the checksum of its content is (a copy, or a touched file).
    One transaction: a load that fails or is killed adds nothing, and the next run loads the files again."""
    counts = LoadCounts()
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    ledger = connection.execute(f'select sha256, file_path, size_bytes, modified_ns from "{schema}".loaded_files')
    seen, unchanged = set(), set()
    for sha256, file_path, size_bytes, modified_ns in ledger.fetchall():
        seen.add(sha256)
        unchanged.add((file_path, size_bytes, modified_ns))
    connection.execute("begin transaction")
    try:
        for path in files:
            stat = path.stat()
            if (str(path), stat.st_size, stat.st_mtime_ns) in unchanged:
                counts.skipped_files.append(str(path))
                if on_file:
                    on_file(path, None)
                continue
            sha256 = checksum(path)
            if sha256 in seen:
                counts.skipped_files.append(str(path))
                if on_file:
                    on_file(path, None)
                continue
            seen.add(sha256)
            rows, unreadable = _insert_rows(connection, schema, load_id, loaded_at, read(path))
            connection.execute(
                f'insert into "{schema}".loaded_files values (?, ?, ?, ?, ?, ?, ?)',
                [sha256, str(path), stat.st_size, rows, load_id, loaded_at, stat.st_mtime_ns],
            )
            counts.files += 1
            counts.rows += rows
            counts.unreadable_rows += unreadable
            if on_file:
                on_file(path, rows)
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
    return counts


def _insert_rows(
    connection: duckdb.DuckDBPyConnection, schema: str, load_id: str, loaded_at: datetime, rows: Iterable[RawRow]
) -> tuple[int, int]:
    inserted = unreadable = 0
    for batch in _batches(rows, BATCH_ROWS):
        columns = list(
            zip(
                *((r.source_file, r.source_line, r.raw_text, r.load_error, r.load_error_detail) for r in batch),
                strict=True,
            )
        )
        connection.execute(
            f"""
            insert into "{schema}".raw_events
            select ?, unnest(?::varchar[]), unnest(?::bigint[]), unnest(?::varchar[]),
                unnest(?::varchar[]), unnest(?::varchar[]), ?
            """,
            [load_id, *map(list, columns), loaded_at],
        )
        inserted += len(batch)
        unreadable += sum(1 for r in batch if r.load_error)
    return inserted, unreadable


def _batches(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def summarize(connection: duckdb.DuckDBPyConnection, load_id: str | None = None) -> WarehouseSummary:
    """The counts of the built marts (schema main); with a load_id, also what became of that load's rows."""
    rows = connection.execute("select table_name from information_schema.tables where table_schema = 'main'")
    tables = {name for (name,) in rows.fetchall()}

    def query(sql: str, parameters: list[object]) -> list[tuple[object, ...]]:
        return connection.execute(sql, parameters).fetchall()

    return count_marts(query, tables, "", load_id)
