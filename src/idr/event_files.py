"""Find Segment event files, tell their kind, and read them into raw rows without judging their content.

NDJSON (one event a line) and JSON-array files are read, gzipped or not (detected by content, not by
name), and Parquet files (one event a row; columns named as the Segment fields, nested objects as
structs or JSON). Every line, array element or Parquet row becomes one row; what cannot be read
still becomes a row, with a load_error saying why, so that nothing in an input file is dropped
silently. Blank lines are not events and are skipped. Lines end at CRLF, LF or a lone CR. A file is a
JSON array only when its text, after a byte-order mark and white space, is one array from its `[` to
its closing `]` (read by its structure: one bad element is a row of its own); any other file is read
line by line, whatever its first line holds.

Valid UTF-8 NDJSON, plain or gzipped, is read by DuckDB itself (see `text_parts` and
loading.load_files); `read_rows` is the reader of everything else: JSON arrays, files that are not
valid UTF-8 or end a line with a lone CR, and gzip streams that end early.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import re
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import BinaryIO

import duckdb

EVENT_FILE_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz", ".parquet")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
UTF8_BOM = b"\xef\xbb\xbf"
PARQUET_BATCH_ROWS = 50_000
JSON_WHITESPACE = " \t\r\n"
# A line of only these characters is blank: not an event, skipped (any other line becomes a row).
BLANK_CHARACTERS = " \t\r\n\v\f"
READ_CHUNK = 1 << 20
LINE_BREAK = re.compile(rb"\r\n|\r|\n")
# What the structure of a JSON array is read from: whole strings (their brackets and commas are not
# structure), brackets and commas.
ARRAY_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)
# A text part DuckDB reads in one piece holds at most this many bytes (cut at a line end).
PART_BYTES = 256 << 20


class EventFileError(Exception):
    """An input path that cannot be used at all (missing, or a directory without event files)."""


@dataclass(frozen=True)
class RawRow:
    source_file: str
    source_line: int | None
    raw_text: str
    load_error: str | None = None
    load_error_detail: str | None = None


class FileKind(Enum):
    NDJSON = "ndjson"
    GZIP_NDJSON = "gzip_ndjson"
    JSON_ARRAY = "json_array"
    PARQUET = "parquet"


@dataclass(frozen=True)
class FileInfo:
    """What the loader needs to know of a file before reading it: its kind, the checksum the ledger
    knows its content by, and (for plain text) whether it is valid UTF-8 from start to end and whether
    a carriage return not followed by a line feed ends a line somewhere (DuckDB splits at line feeds)."""

    kind: FileKind
    sha256: str
    is_utf8: bool
    has_lone_cr: bool = False


def inspect(path: Path) -> FileInfo:
    """Read a file once: its checksum, kind (by content) and, for plain text, whether it is UTF-8."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(PARQUET_MAGIC):
        kind = FileKind.PARQUET
    elif head.startswith(GZIP_MAGIC):
        kind = FileKind.JSON_ARRAY if _opens_an_array(_gzip_head(path)) else FileKind.GZIP_NDJSON
    else:
        kind = FileKind.JSON_ARRAY if _opens_an_array(head) else FileKind.NDJSON
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = kind is FileKind.NDJSON
    lone_crs, ended_with_cr = 0, False
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
            if kind is FileKind.NDJSON:
                lone_crs += chunk.count(b"\r") - chunk.count(b"\r\n") - (ended_with_cr and chunk.startswith(b"\n"))
                ended_with_cr = chunk.endswith(b"\r")
            # ASCII after a complete character is valid UTF-8, and far quicker to check than to decode
            if is_utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    return FileInfo(kind, digest.hexdigest(), is_utf8, lone_crs > 0)


def _gzip_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read(4096)
    except (OSError, EOFError, zlib.error):
        return b""


def _opens_an_array(head: bytes) -> bool:
    return head.removeprefix(UTF8_BOM).lstrip().startswith(b"[")


@dataclass(frozen=True)
class TextPart:
    """A piece of an NDJSON file that DuckDB reads as text: `part_path` holds the lines of
    `source_file` from line `first_line` on (the file itself, a link to it or a decompressed piece)."""

    part_path: Path
    source_file: str
    first_line: int


def text_parts(path: Path, info: FileInfo, work_dir: Path, number: int) -> list[TextPart] | None:
    """The parts DuckDB reads a valid UTF-8 NDJSON file through, written or linked into `work_dir`
    under names of their own (DuckDB would expand glob characters in the file's own name); None when
    the file must go through `read_rows` instead (not UTF-8, a line ended by a lone carriage return, or
    a gzip stream that does not end well)."""
    if info.kind is FileKind.NDJSON and (not info.is_utf8 or info.has_lone_cr):
        return None
    if info.kind is FileKind.NDJSON and path.stat().st_size <= PART_BYTES:
        link = work_dir / f"{number:06d}-0.ndjson"
        link.symlink_to(path)
        return [TextPart(link, str(path), 1)]
    if info.kind not in (FileKind.NDJSON, FileKind.GZIP_NDJSON):
        raise ValueError(f"{path}: {info.kind.value} files are not read as text parts")
    opener = gzip.open if info.kind is FileKind.GZIP_NDJSON else open
    parts: list[TextPart] = []
    try:
        with opener(path, "rb") as stream:
            for index, (first_line, piece) in enumerate(_pieces(stream)):  # type: ignore[arg-type]
                if info.kind is FileKind.GZIP_NDJSON:
                    piece.decode("utf-8")  # raises when the piece is not UTF-8 (inspect checked plain files)
                    if piece.count(b"\r") != piece.count(b"\r\n"):
                        raise _LoneCarriageReturn
                part_path = work_dir / f"{number:06d}-{index}.ndjson"
                part_path.write_bytes(piece)
                parts.append(TextPart(part_path, str(path), first_line))
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, _LoneCarriageReturn):
        for part in parts:
            part.part_path.unlink(missing_ok=True)
        return None
    return parts


class _LoneCarriageReturn(Exception):
    """A carriage return that ends a line on its own (DuckDB's reading splits lines at line feeds)."""


def _pieces(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """The stream in pieces of about PART_BYTES that end at a line end, each with its first line number."""
    first_line, carry = 1, b""
    while chunk := stream.read(PART_BYTES):
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        piece, carry = data[:cut], data[cut:]
        yield first_line, piece
        first_line += piece.count(b"\n")
    if carry:
        yield first_line, carry


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
            if _opens_an_array(head):
                data = stream.read()
                elements = array_elements(data)
                if elements is not None:
                    yield from _array_rows(name, data, elements)
                    return
                stream.seek(0)
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
    """Each row of a Parquet file as the JSON object of its columns (null columns as JSON null). The
    file is read through a link of a plain name: DuckDB would expand glob characters in its own."""
    connection = duckdb.connect()
    scratch = tempfile.TemporaryDirectory(prefix="idr-parquet-")
    try:
        link = Path(scratch.name) / "events.parquet"
        link.symlink_to(Path(name).resolve())
        result = connection.execute("select to_json(events)::varchar from read_parquet(?) as events", [str(link)])
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
        scratch.cleanup()


def _decode(data: bytes, first: bool) -> tuple[str, str | None]:
    """The text of `data` and, when it is not valid UTF-8, why (the text then has U+FFFD in it)."""
    encoding = "utf-8-sig" if first else "utf-8"
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as error:
        return data.decode(encoding, errors="replace"), f"not valid UTF-8: {error.reason} at byte {error.start}"


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a byte stream without their ends: a line ends at CRLF, LF or a lone CR."""
    carry = b""
    # read1: what one read gives, so that the lines before a gzip stream's cut are kept
    while chunk := stream.read1(READ_CHUNK):  # type: ignore[attr-defined]
        data = carry + chunk
        # a CR at the end may be the first half of a CRLF: keep it for the next chunk
        cut = len(data) - 1 if data.endswith(b"\r") else len(data)
        pieces = LINE_BREAK.split(data[:cut])
        carry = pieces.pop() + data[cut:]
        yield from pieces
    if carry:
        yield carry.removesuffix(b"\r")


def _line_rows(name: str, stream: BinaryIO) -> Iterator[RawRow]:
    for line_number, raw in enumerate(_lines(stream), start=1):
        text, problem = _decode(raw, first=line_number == 1)
        if not text.strip(BLANK_CHARACTERS):
            continue
        if problem:
            yield RawRow(name, line_number, text, "invalid_utf8", problem)
        else:
            yield RawRow(name, line_number, text)


def array_elements(data: bytes) -> list[tuple[int, int]] | None:
    """Where each element of a JSON-array file is, as (start, end) byte offsets with the white space
    around it left out; None when the text is not one array: its first character (after a byte-order
    mark and white space) is not `[`, the brackets never close it, or text follows the closing `]`.
    Only the structure is read (strings, brackets, commas): an element that is not valid JSON is still
    an element, so that it is rejected alone."""
    start = len(data) - len(data.removeprefix(UTF8_BOM).lstrip(JSON_WHITESPACE.encode()))
    if not data.startswith(b"[", start):
        return None
    elements: list[tuple[int, int]] = []
    depth, element_start = 0, start + 1
    for token in ARRAY_TOKEN.finditer(data, start):
        mark = token.group()
        if mark in (b"[", b"{"):
            depth += 1
        elif mark in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                if data[token.end() :].strip(JSON_WHITESPACE.encode()):
                    return None
                _add_element(data, element_start, token.start(), elements, is_last=True)
                return elements
        elif mark == b"," and depth == 1:
            _add_element(data, element_start, token.start(), elements, is_last=False)
            element_start = token.end()
    return None


def _add_element(data: bytes, start: int, end: int, elements: list[tuple[int, int]], is_last: bool) -> None:
    """The element between `start` and `end` without its white space; an empty one stays where it
    starts, just after its comma or bracket (and an empty last one is no element when it is the only
    one: `[ ]`)."""
    whitespace = JSON_WHITESPACE.encode()
    first, last = start, end
    while first < last and data[first] in whitespace:
        first += 1
    while last > first and data[last - 1] in whitespace:
        last -= 1
    if first < last:
        elements.append((first, last))
    elif not is_last or elements:
        elements.append((start, start))


def _array_rows(name: str, data: bytes, elements: list[tuple[int, int]]) -> Iterator[RawRow]:
    """One row per element, numbered by the line it starts on; an empty element (`[1,,2]`, `[1,]`)
    and an element that is not UTF-8 are rows with the reason."""
    lines = _LineCounter(data)
    for start, end in elements:
        line = lines.at(start)
        if start == end:
            yield RawRow(
                name,
                line,
                "",
                "invalid_json_array",
                "an empty element of the JSON array (two commas, or a comma before ])",
            )
            continue
        text, problem = _decode(data[start:end], first=False)
        if problem:
            yield RawRow(name, line, text, "invalid_utf8", f"a JSON-array element is {problem}")
        else:
            yield RawRow(name, line, text)


class _LineCounter:
    """Line numbers (lines end at CRLF, LF or a lone CR) of increasing positions in a text, counted once."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0
        self._line = 1

    def at(self, position: int) -> int:
        self._line += len(LINE_BREAK.findall(self._data, self._position, position))
        self._position = position
        return self._line
