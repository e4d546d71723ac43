"""Loading event files into the landing table of a DuckDB warehouse, with the ledger of loaded files.

DuckDB reads the files itself: valid UTF-8 NDJSON (gzipped NDJSON decompressed into parts first)
through `read_text`, many files in one statement, split into lines with their line numbers; Parquet
through `read_parquet` with its row numbers. What DuckDB cannot read whole (JSON arrays, files that
are not UTF-8, broken gzip streams or Parquet files) goes through `event_files.read_rows`, which keeps
every part it cannot read as a row with the reason. Files are always read under names of the
loader's own (links or parts in a work folder), so glob characters in a file's name mean nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import duckdb

from idr.event_files import BLANK_CHARACTERS, FileInfo, FileKind, RawRow, TextPart, inspect, read_rows, text_parts
from idr.warehouse import FileLoaded, LoadCounts

# Python-read rows are inserted this many at a time.
BATCH_ROWS = 100_000
# Text parts are read by one statement until they hold about this many bytes (gzip parts take disk).
TEXT_GROUP_BYTES = 2 << 30


@dataclass(frozen=True)
class NewFile:
    path: Path
    info: FileInfo
    size_bytes: int
    modified_ns: int


def load_files(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    load_id: str,
    files: Iterable[Path],
    work_dir: Path,
    on_file: FileLoaded | None = None,
) -> LoadCounts:
    """Append the rows of every file whose content was never loaded, and record each in the ledger.
    A file whose path, size and modification time are in the ledger is skipped without being read;
    any other file is loaded unless the checksum of its content is (a copy, or a touched file).
    One transaction: a load that fails or is killed adds nothing, and the next run loads the files again.
    `work_dir` holds the loader's links and decompressed parts while it runs."""
    counts = LoadCounts()
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    ledger = connection.execute(f'select sha256, file_path, size_bytes, modified_ns from "{schema}".loaded_files')
    seen, unchanged = set(), set()
    for sha256, file_path, size_bytes, modified_ns in ledger.fetchall():
        seen.add(sha256)
        unchanged.add((file_path, size_bytes, modified_ns))
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix=".idr-load-") as scratch:
        connection.execute("begin transaction")
        try:
            new_files: list[NewFile] = []
            to_read = []
            for path in files:
                stat = path.stat()
                if (str(path), stat.st_size, stat.st_mtime_ns) in unchanged:
                    _skipped(counts, path, on_file)
                else:
                    to_read.append((path, stat))
            # checksums are computed a file or more ahead, in a thread of their own, while DuckDB
            # inserts the files before (hashing and DuckDB both release the GIL)
            with ThreadPoolExecutor(max_workers=1) as inspector:
                inspected = inspector.map(inspect, [path for path, _ in to_read])
                _insert_files(
                    connection,
                    schema,
                    load_id,
                    loaded_at,
                    _unseen(to_read, inspected, seen, counts, on_file, new_files),
                    Path(scratch),
                    on_file,
                )
            _record(connection, schema, load_id, loaded_at, new_files, counts)
            connection.execute("commit")
        except BaseException:
            # a commit that failed (a full disk) may have ended the transaction already: the first error
            # is the one to tell, not the rollback's
            with contextlib.suppress(duckdb.Error):
                connection.execute("rollback")
            raise
    return counts


def _unseen(
    to_read: list[tuple[Path, os.stat_result]],
    inspected: Iterable[FileInfo],
    seen: set[str],
    counts: LoadCounts,
    on_file: FileLoaded | None,
    new_files: list[NewFile],
) -> Iterator[NewFile]:
    """The files whose content was not loaded before, as their checksums come in (each also appended
    to `new_files`); the others are reported skipped."""
    for (path, stat), info in zip(to_read, inspected, strict=True):
        if info.sha256 in seen:
            _skipped(counts, path, on_file)
            continue
        seen.add(info.sha256)
        new_file = NewFile(path, info, stat.st_size, stat.st_mtime_ns)
        new_files.append(new_file)
        yield new_file


def _skipped(counts: LoadCounts, path: Path, on_file: FileLoaded | None) -> None:
    counts.skipped_files.append(str(path))
    if on_file:
        on_file(path, None)


def _insert_files(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    load_id: str,
    loaded_at: datetime,
    new_files: Iterable[NewFile],
    scratch: Path,
    on_file: FileLoaded | None,
) -> None:
    """Insert the rows of every new file: text parts in groups, Parquet and the rest file by file."""
    group: list[tuple[NewFile, list[TextPart]]] = []
    group_bytes = 0

    def flush() -> None:
        nonlocal group, group_bytes
        if group:
            _insert_text_parts(connection, schema, load_id, loaded_at, [p for _, parts in group for p in parts])
            for _, parts in group:
                for part in parts:
                    part.part_path.unlink(missing_ok=True)
            if on_file:
                rows = _rows_per_file(connection, schema, load_id, [new_file.path for new_file, _ in group])
                for new_file, _ in group:
                    on_file(new_file.path, rows.get(str(new_file.path), 0))
        group, group_bytes = [], 0

    for number, new_file in enumerate(new_files):
        kind = new_file.info.kind
        if kind in (FileKind.NDJSON, FileKind.GZIP_NDJSON):
            parts = text_parts(new_file.path, new_file.info, scratch, number)
            if parts is not None:
                group.append((new_file, parts))
                group_bytes += sum(part.part_path.stat().st_size for part in parts)
                if group_bytes >= TEXT_GROUP_BYTES:
                    flush()
                continue
        if kind is FileKind.PARQUET and _parquet_is_readable(new_file.path, scratch, number):
            _insert_parquet(connection, schema, load_id, loaded_at, new_file.path, scratch, number)
        else:
            _insert_rows(connection, schema, load_id, loaded_at, read_rows(new_file.path))
        if on_file:
            added = _rows_per_file(connection, schema, load_id, [new_file.path])
            on_file(new_file.path, added.get(str(new_file.path), 0))
    flush()


def _rows_per_file(
    connection: duckdb.DuckDBPyConnection, schema: str, load_id: str, paths: list[Path]
) -> dict[str, int]:
    """The rows this load has added from each of `paths`."""
    rows = connection.execute(
        f'select source_file, count(*) from "{schema}".raw_events where load_id = ? '
        "and source_file in (select unnest(?::varchar[])) group by source_file",
        [load_id, [str(path) for path in paths]],
    ).fetchall()
    return {str(file_path): int(count) for file_path, count in rows}


def _insert_text_parts(
    connection: duckdb.DuckDBPyConnection, schema: str, load_id: str, loaded_at: datetime, parts: list[TextPart]
) -> None:
    """One statement: every line of every part, with its file and line number; blank lines skipped,
    a line's trailing carriage return and a byte-order mark before the first line taken off."""
    if not parts:
        return
    connection.execute(
        f"""
        insert into "{schema}".raw_events
        with part_files as (
            select unnest($parts, recursive := true)
        ),

        part_lines as (
            select
                filename,
                unnest(lines) as line,
                unnest(range(1, len(lines) + 1)) as line_in_part
            from (
                select
                    filename,
                    string_split(content, chr(10)) as lines
                from read_text($paths)
            )
        ),

        cleaned as (
            select
                part_files.source_file,
                part_files.first_line + part_lines.line_in_part - 1 as source_line,
                case
                    when part_files.first_line = 1 and part_lines.line_in_part = 1
                        then rtrim(
                            case
                                when starts_with(part_lines.line, chr(65279)) then substr(part_lines.line, 2)
                                else part_lines.line
                            end,
                            chr(13)
                        )
                    when suffix(part_lines.line, chr(13)) then rtrim(part_lines.line, chr(13))
                    else part_lines.line
                end as raw_text
            from part_lines
            inner join part_files on part_lines.filename = part_files.part_path
        )

        select
            $load_id,
            source_file,
            source_line,
            raw_text,
            null,
            null,
            $loaded_at
        from cleaned
        where starts_with(raw_text, chr(123)) or trim(raw_text, $blank) <> ''
        """,
        {
            "parts": [
                {"part_path": str(p.part_path), "source_file": p.source_file, "first_line": p.first_line} for p in parts
            ],
            "paths": [str(p.part_path) for p in parts],
            "load_id": load_id,
            "loaded_at": loaded_at,
            "blank": BLANK_CHARACTERS,
        },
    ).fetchall()


def _parquet_link(path: Path, scratch: Path, number: int) -> Path:
    link = scratch / f"{number:06d}.parquet"
    if not link.exists():
        link.symlink_to(path)
    return link


def _parquet_columns(connection: duckdb.DuckDBPyConnection, link: Path) -> list[str]:
    described = connection.execute("select column_name from (describe select * from read_parquet(?))", [str(link)])
    return [name for (name,) in described.fetchall()]


def _parquet_is_readable(path: Path, scratch: Path, number: int) -> bool:
    """Whether DuckDB reads every row of the file (in a connection of its own, so that a failure does
    not abort the load's transaction)."""
    link = _parquet_link(path, scratch, number)
    probe = duckdb.connect()
    try:
        probe.execute("select sum(length(to_json(events))) from read_parquet(?) as events", [str(link)]).fetchall()
        return True
    except duckdb.Error:
        return False
    finally:
        probe.close()


def _insert_parquet(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    load_id: str,
    loaded_at: datetime,
    path: Path,
    scratch: Path,
    number: int,
) -> None:
    """Every row of a Parquet file as the JSON object of its columns (null columns as JSON null), with
    its row number from 1."""
    link = _parquet_link(path, scratch, number)
    columns = _parquet_columns(connection, link)
    fields = ", ".join(
        f'"{name.replace(chr(34), chr(34) * 2)}" := events."{name.replace(chr(34), chr(34) * 2)}"' for name in columns
    )
    connection.execute(
        f"""
        insert into "{schema}".raw_events
        select
            $load_id,
            $source_file,
            events.file_row_number + 1,
            cast(to_json(struct_pack({fields})) as varchar),
            null,
            null,
            $loaded_at
        from read_parquet($link, file_row_number = true) as events
        """,
        {"load_id": load_id, "source_file": str(path), "link": str(link), "loaded_at": loaded_at},
    ).fetchall()


def _insert_rows(
    connection: duckdb.DuckDBPyConnection, schema: str, load_id: str, loaded_at: datetime, rows: Iterable[RawRow]
) -> None:
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
        ).fetchall()


def _batches(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _record(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    load_id: str,
    loaded_at: datetime,
    new_files: list[NewFile],
    counts: LoadCounts,
) -> None:
    """The ledger rows of the new files, with the rows each added, and the load's counts."""
    per_file = {
        file_path: (int(rows), int(unreadable))
        for file_path, rows, unreadable in connection.execute(
            f'select source_file, count(*), count(load_error) from "{schema}".raw_events where load_id = ? '
            "group by source_file",
            [load_id],
        ).fetchall()
    }
    for new_file in new_files:
        rows, unreadable = per_file.get(str(new_file.path), (0, 0))
        connection.execute(
            f'insert into "{schema}".loaded_files values (?, ?, ?, ?, ?, ?, ?)',
            [new_file.info.sha256, str(new_file.path), new_file.size_bytes, rows, load_id, loaded_at,
             new_file.modified_ns],
        ).fetchall()  # fmt: skip
        counts.files += 1
        counts.rows += rows
        counts.unreadable_rows += unreadable
