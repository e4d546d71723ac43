"""Reading event files: NDJSON, JSON arrays, gzip, Parquet, and what cannot be read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from idr.event_files import READ_CHUNK, EventFileError, RawRow, discover, inspect, read_rows


def rows(path: Path) -> list[RawRow]:
    return list(read_rows(path))


def test_ndjson_lines_keep_their_line_numbers_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(b'\xef\xbb\xbf{"a":1}\r\n\n   \n{"b":2}\n')
    assert [(r.source_line, r.raw_text, r.load_error) for r in rows(path)] == [
        (1, '{"a":1}', None),
        (4, '{"b":2}', None),
    ]


def test_gzip_is_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    path.write_bytes(gzip.compress(b'{"a":1}\n{"b":2}\n'))
    assert [r.raw_text for r in rows(path)] == ['{"a":1}', '{"b":2}']


def test_a_truncated_gzip_keeps_what_was_read_and_says_the_rest_was_not(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b'{"n":%d}\n' % n for n in range(5000)))
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])
    result = rows(path)
    assert result[-1].load_error == "unreadable_file"
    assert all(r.load_error is None for r in result[:-1])
    assert [r.raw_text for r in result[:-1]] == [f'{{"n":{n}}}' for n in range(len(result) - 1)]


def test_json_array_elements_become_rows_with_the_line_they_start_on(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_text('[\n  {"a": 1},\n  {"b":\n    2},\n  "x", [3]\n]\n', encoding="utf-8")
    assert [(r.source_line, r.raw_text, r.load_error) for r in rows(path)] == [
        (2, '{"a": 1}', None),
        (3, '{"b":\n    2}', None),
        (5, '"x"', None),
        (5, "[3]", None),
    ]


def test_a_bad_element_of_a_json_array_is_a_row_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"a": 1},\n {"b": oops},\n {"c": "[,]{"}]', encoding="utf-8")
    result = rows(path)
    assert [(r.source_line, r.raw_text, r.load_error) for r in result] == [
        (1, '{"a": 1}', None),
        (2, '{"b": oops}', None),
        (3, '{"c": "[,]{"}', None),
    ]


def test_an_empty_element_of_a_json_array_is_kept_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "commas.json"
    path.write_text('[{"a": 1},,\r{"b": 2},]', encoding="utf-8")
    assert [(r.source_line, r.load_error) for r in rows(path)] == [
        (1, None),
        (1, "invalid_json_array"),
        (2, None),
        (2, "invalid_json_array"),
    ]
    (tmp_path / "empty.json").write_text(" [ ] ", encoding="utf-8")
    assert rows(tmp_path / "empty.json") == []


def test_a_file_that_is_not_one_array_is_read_line_by_line(tmp_path: Path) -> None:
    unclosed = tmp_path / "open.json"
    unclosed.write_text('[{"a": 1}, {"b": 2}\n{"c": 3}\n', encoding="utf-8")
    assert [(r.source_line, r.raw_text, r.load_error) for r in rows(unclosed)] == [
        (1, '[{"a": 1}, {"b": 2}', None),
        (2, '{"c": 3}', None),
    ]
    followed = tmp_path / "followed.ndjson"
    followed.write_bytes(b'\xef\xbb\xbf [1, 2, 3]\r\n{"c": 3}\r{"d": 4}')
    assert [(r.source_line, r.raw_text) for r in rows(followed)] == [
        (1, " [1, 2, 3]"),
        (2, '{"c": 3}'),
        (3, '{"d": 4}'),
    ]


def test_invalid_utf8_is_kept_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "bytes.ndjson"
    path.write_bytes(b'{"a":"\xff"}\n{"b":1}\n')
    result = rows(path)
    assert (result[0].load_error, result[1].load_error) == ("invalid_utf8", None)
    assert result[0].raw_text == '{"a":"\ufffd"}'


def test_discover_searches_directories_for_event_files_only(tmp_path: Path) -> None:
    (tmp_path / "day1").mkdir()
    for name in ["day1/a.ndjson", "day1/b.json.gz", "day1/notes.txt", "c.jsonl"]:
        (tmp_path / name).write_text("", encoding="utf-8")
    assert [p.name for p in discover([tmp_path])] == ["c.jsonl", "a.ndjson", "b.json.gz"]
    assert discover([tmp_path / "day1" / "notes.txt"]) == [(tmp_path / "day1" / "notes.txt").resolve()]


def test_discover_rejects_missing_paths_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(EventFileError, match="no such file"):
        discover([tmp_path / "missing.ndjson"])
    with pytest.raises(EventFileError, match="no event files"):
        discover([tmp_path])


def write_parquet(path: Path, select: str) -> None:
    connection = duckdb.connect()
    try:
        connection.execute(f"copy ({select}) to '{path}' (format parquet)")
    finally:
        connection.close()


def test_parquet_rows_become_json_objects_with_nested_structs(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    write_parquet(
        path,
        "select * from (values ('m1', 'track', {'device': {'id': 'd1'}}), ('m2', 'page', null))"
        ' as t("messageId", "type", context)',
    )
    result = rows(path)
    assert [r.source_line for r in result] == [1, 2]
    assert [json.loads(r.raw_text) for r in result] == [
        {"messageId": "m1", "type": "track", "context": {"device": {"id": "d1"}}},
        {"messageId": "m2", "type": "page", "context": None},
    ]
    assert all(r.load_error is None for r in result)


def test_a_truncated_parquet_file_is_kept_as_an_unreadable_row(tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    write_parquet(path, "select range as n from range(1000)")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    [row] = rows(path)
    assert row.load_error == "unreadable_file"
    assert "Parquet" in (row.load_error_detail or "")


def test_directories_yield_parquet_files_too(tmp_path: Path) -> None:
    write_parquet(tmp_path / "day.parquet", "select 1 as n")
    (tmp_path / "notes.txt").write_text("not events")
    assert [p.name for p in discover([tmp_path])] == ["day.parquet"]


def test_a_file_gone_before_it_is_read_is_kept_as_an_unreadable_row(tmp_path: Path) -> None:
    [row] = rows(tmp_path / "vanished.ndjson")
    assert row.load_error == "unreadable_file"


@pytest.mark.parametrize(
    ("tail", "is_utf8"),
    [
        ("é".encode() + b"x" * READ_CHUNK, True),  # a character cut by a chunk's end, then ASCII chunks
        (b"\xc3" + b"x" * READ_CHUNK, False),  # a lead byte with no continuation, then ASCII chunks
        (b"x" * READ_CHUNK + b"\xff", False),  # ASCII chunks, then an invalid byte
    ],
)
def test_utf8_is_checked_across_chunk_boundaries(tmp_path: Path, tail: bytes, is_utf8: bool) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"a" * (READ_CHUNK - 1) + tail)
    assert inspect(path).is_utf8 is is_utf8
