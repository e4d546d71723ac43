"""Find Segment event files and read them into raw rows, without judging their content.

NDJSON (one event a line) and JSON-array files are read, gzipped or not (detected by content, not by
name), and Parquet files (one event a row; columns named as the Segment fields, nested objects as
structs or JSON). Every line, array element or Parquet row becomes one RawRow; what cannot be read
still becomes a row, with a load_error saying why, so that nothing in an input file is dropped
silently. Blank lines are not events and are skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import duckdb

EVENT_FILE_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz", ".parquet")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
PARQUET_BATCH_ROWS = 50_000
JSON_WHITESPACE = " \t\r\n"


class EventFileError(Exception):
    """An input path that cannot be used at all (missing, or a directory without event files)."""


@dataclass(frozen=True)
class RawRow:
    source_file: str
    source_line: int | None
    raw_text: str
    load_error: str | None = None
    load_error_detail: str | None = None


def discover(paths: Iterable[Path]) -> list[Path]:
    """The event files named by `paths`: files as given, directories searched recursively for
    files ending in one of EVENT_FILE_SUFFIXES. Each file once, in the order found."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            matches = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(EVENT_FILE_SUFFIXES))
            if not matches:
                raise EventFileError(f"{path}: no event files ({', '.join(EVENT_FILE_SUFFIXES)}) in this directory")
            found.update(dict.fromkeys(p.resolve() for p in matches))
        elif path.is_file():
            found[path.resolve()] = None
        else:
            raise EventFileError(f"{path}: no such file or directory")
    return list(found)


def sha256_of(path: Path) -> str:
    """The checksum the ledger of loaded files knows a file's content by."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_rows(path: Path) -> Iterator[RawRow]:
    """Every event of one file as a RawRow, in file order."""
    name = str(path)
    try:
        if _starts_with(path, PARQUET_MAGIC):
            yield from _parquet_rows(name)
            return
        with _open(path) as stream:
            head = stream.read(4096)
            stream.seek(0)
            if head.lstrip().startswith(b"["):
                yield from _array_rows(name, stream.read())
            else:
                yield from _line_rows(name, stream)
    except (OSError, EOFError, zlib.error) as error:
        yield RawRow(name, None, "", "unreadable_file", f"the file could not be read to its end: {error}")


def _starts_with(path: Path, magic: bytes) -> bool:
    with path.open("rb") as probe:
        return probe.read(len(magic)) == magic


def _open(path: Path) -> BinaryIO:
    if _starts_with(path, GZIP_MAGIC):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _parquet_rows(name: str) -> Iterator[RawRow]:
    """Each row of a Parquet file as the JSON object of its columns (null columns as JSON null)."""
    connection = duckdb.connect()
    try:
        result = connection.execute("select to_json(events)::varchar from read_parquet(?) as events", [name])
        row_number = 0
        while batch := result.fetchmany(PARQUET_BATCH_ROWS):
            for (text,) in batch:
                row_number += 1
                yield RawRow(name, row_number, text)
    except duckdb.Error as error:
        detail = str(error).strip().splitlines()[0]
        yield RawRow(name, None, "", "unreadable_file", f"the Parquet file could not be read to its end: {detail}")
    finally:
        connection.close()


def _decode(data: bytes, first: bool) -> tuple[str, str | None]:
    """The text of `data` and, when it is not valid UTF-8, why (the text then has U+FFFD in it)."""
    encoding = "utf-8-sig" if first else "utf-8"
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as error:
        return data.decode(encoding, errors="replace"), f"not valid UTF-8: {error.reason} at byte {error.start}"


def _line_rows(name: str, stream: BinaryIO) -> Iterator[RawRow]:
    for line_number, raw in enumerate(stream, start=1):
        text, problem = _decode(raw.rstrip(b"\r\n"), first=line_number == 1)
        if not text.strip():
            continue
        if problem:
            yield RawRow(name, line_number, text, "invalid_utf8", problem)
        else:
            yield RawRow(name, line_number, text)


def _array_rows(name: str, data: bytes) -> Iterator[RawRow]:
    text, problem = _decode(data, first=True)
    if problem:
        yield RawRow(name, 1, text, "invalid_utf8", f"the JSON-array file is {problem}")
        return
    lines = _LineCounter(text)
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    while True:
        position = _skip_whitespace(text, position)
        if position >= len(text):
            yield RawRow(name, lines.at(position), "", "invalid_json_array", "the JSON array is not closed with ]")
            return
        if text[position] == "]":
            rest = _skip_whitespace(text, position + 1)
            if rest < len(text):
                yield RawRow(
                    name,
                    lines.at(rest),
                    text[rest:],
                    "invalid_json_array",
                    "text after the closing ] of the JSON array",
                )
            return
        try:
            _, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            yield RawRow(
                name,
                lines.at(position),
                text[position:],
                "invalid_json_array",
                f"a JSON-array element could not be parsed ({error.msg} at line {error.lineno} "
                f"column {error.colno}); the rest of the file is kept here unparsed",
            )
            return
        yield RawRow(name, lines.at(position), text[position:end])
        position = _skip_whitespace(text, end)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position < len(text) and text[position] != "]":
            yield RawRow(
                name,
                lines.at(position),
                text[position:],
                "invalid_json_array",
                "expected ',' or ']' after a JSON-array element; the rest of the file is kept here unparsed",
            )
            return


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in JSON_WHITESPACE:
        position += 1
    return position


class _LineCounter:
    """Line numbers of increasing positions in a text, counted once."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._position = 0
        self._line = 1

    def at(self, position: int) -> int:
        self._line += self._text.count("\n", self._position, position)
        self._position = position
        return self._line
