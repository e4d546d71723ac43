"""Loading files into the landing table through DuckDB's readers: the rows must be exactly those the
plain-Python reader (event_files.read_rows) gives for the same file, with file names read literally."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idr import event_files, loading, warehouse
from idr.event_files import RawRow, read_rows

Row = tuple[str, int | None, str, str | None]


def load(tmp_path: Path, files: list[Path], load_id: str = "L1") -> list[Row]:
    """Load `files` into a new warehouse and return its landing rows, in file and line order."""
    db_path = tmp_path / f"{load_id}.duckdb"
    connection = warehouse.connect(db_path)
    try:
        warehouse.ensure_landing_tables(connection, "landing")
        loading.load_files(connection, "landing", load_id, files, tmp_path / "work")
        rows = connection.execute(
            "select source_file, source_line, raw_text, load_error from landing.raw_events "
            "order by source_file, source_line nulls last, raw_text"
        ).fetchall()
    finally:
        connection.close()
    return [tuple(row) for row in rows]


def python_rows(path: Path) -> list[Row]:
    return sorted((_row(r) for r in read_rows(path)), key=lambda row: (row[0], row[1] is None, row[1] or 0, row[2]))


def _row(r: RawRow) -> Row:
    return (r.source_file, r.source_line, r.raw_text, r.load_error)


def event(n: int) -> str:
    return json.dumps({"messageId": f"m{n}", "type": "track", "event": "Viewed", "anonymousId": f"a{n}"})


def test_lines_keep_their_numbers_blank_lines_are_skipped_and_line_ends_taken_off(tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(b'\xef\xbb\xbf{"a":1}\r\n\n   \n\t\r\n{"b":2}\nnot json\n{"c":"\xc3\xa9"}')
    rows = load(tmp_path, [path])
    assert [(line, text) for _, line, text, _ in rows] == [
        (1, '{"a":1}'),
        (4 + 1, '{"b":2}'),
        (6, "not json"),
        (7, '{"c":"é"}'),
    ]
    assert rows == python_rows(path)


def test_only_one_byte_order_mark_is_taken_off(tmp_path: Path) -> None:
    path = tmp_path / "marks.ndjson"
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf{}\n")
    assert (
        [raw for _, _, raw, _ in load(tmp_path, [path])] == ["\ufeff{}"] == [raw for _, _, raw, _ in python_rows(path)]
    )


def test_a_gzipped_file_gives_the_rows_of_its_content(tmp_path: Path) -> None:
    text = "".join(event(n) + "\n" for n in range(300))
    plain, packed = tmp_path / "day.ndjson", tmp_path / "day.log"
    plain.write_text(text)
    packed.write_bytes(gzip.compress(text.encode()))
    rows = load(tmp_path, [packed])
    assert [(line, raw) for _, line, raw, _ in rows] == sorted((n + 1, event(n)) for n in range(300))
    assert rows == python_rows(packed)


def test_a_truncated_gzip_keeps_the_lines_before_the_cut_and_says_the_rest_was_not_read(tmp_path: Path) -> None:
    data = gzip.compress("".join(event(n) + "\n" for n in range(5000)).encode())
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])
    rows = load(tmp_path, [path])
    assert rows == python_rows(path)
    assert [error for *_, error in rows].count("unreadable_file") == 1
    assert len(rows) > 100


def test_invalid_utf8_lines_are_kept_with_a_reason_and_the_others_loaded(tmp_path: Path) -> None:
    path = tmp_path / "bytes.ndjson"
    path.write_bytes(b'{"a":"\xff"}\n{"b":1}\n')
    rows = load(tmp_path, [path])
    assert [(line, error) for _, line, _, error in rows] == [(1, "invalid_utf8"), (2, None)]


def test_a_file_larger_than_a_part_is_read_in_parts_with_continuous_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_files, "PART_BYTES", 500)
    path = tmp_path / "big.ndjson"
    path.write_text("".join((event(n) if n % 7 else "") + "\n" for n in range(400)))
    rows = load(tmp_path, [path])
    assert rows == python_rows(path)
    assert [line for _, line, _, _ in rows] == [n + 1 for n in range(400) if n % 7]
    assert not list((tmp_path / "work").rglob("*.ndjson")), "the loader leaves no parts behind"


def write_parquet(path: Path, message_ids: list[str]) -> None:
    connection = duckdb.connect()
    try:
        values = ", ".join(f"('{m}', 'track')" for m in message_ids)
        target = str(path).replace("'", "''")
        connection.execute(f"""copy (select * from (values {values}) as t("messageId", "type")) to '{target}'""")
    finally:
        connection.close()


def test_file_names_with_glob_characters_are_read_literally(tmp_path: Path) -> None:
    names = ["events[1].parquet", "events1.parquet", "star*.parquet", "starry.parquet", "what?.parquet"]
    for number, name in enumerate(names):
        write_parquet(tmp_path / name, [f"p{number}-{k}" for k in range(number + 1)])
    for name in ["day[2].ndjson", "day2.ndjson", "all*.ndjson"]:
        (tmp_path / name).write_text(json.dumps({"messageId": name}) + "\n")
    files = sorted(tmp_path.glob("*.*json")) + sorted(tmp_path.glob("*.parquet"))
    rows = load(tmp_path, files)
    by_file: dict[str, list[str]] = {}
    for source_file, _, raw_text, _ in rows:
        by_file.setdefault(Path(source_file).name, []).append(json.loads(raw_text)["messageId"])
    for number, name in enumerate(names):
        assert sorted(by_file[name]) == sorted(f"p{number}-{k}" for k in range(number + 1)), name
    for name in ["day[2].ndjson", "day2.ndjson", "all*.ndjson"]:
        assert by_file[name] == [name]
    assert len(rows) == sum(range(1, len(names) + 1)) + 3


def test_parquet_rows_are_numbered_from_one_as_json_objects(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    write_parquet(path, ["m1", "m2", "m3"])
    assert load(tmp_path, [path]) == python_rows(path)


def test_an_unreadable_parquet_file_is_one_row_and_the_other_files_still_load(tmp_path: Path) -> None:
    broken, good = tmp_path / "cut.parquet", tmp_path / "good.ndjson"
    write_parquet(broken, [f"m{n}" for n in range(1000)])
    broken.write_bytes(broken.read_bytes()[:300])
    good.write_text(event(1) + "\n")
    rows = load(tmp_path, [broken, good])
    assert [(Path(f).name, error) for f, _, _, error in rows] == [
        ("cut.parquet", "unreadable_file"),
        ("good.ndjson", None),
    ]


def test_an_unreadable_parquet_file_with_a_glob_name_reads_no_neighbour(tmp_path: Path) -> None:
    broken, neighbour = tmp_path / "star*.parquet", tmp_path / "starry.parquet"
    write_parquet(broken, [f"m{n}" for n in range(1000)])
    broken.write_bytes(broken.read_bytes()[:300])
    write_parquet(neighbour, ["n1", "n2"])
    rows = load(tmp_path, [broken, neighbour])
    assert [(Path(f).name, error) for f, _, _, error in rows] == [
        ("star*.parquet", "unreadable_file"),
        ("starry.parquet", None),
        ("starry.parquet", None),
    ]


def test_the_ledger_records_each_file_with_its_rows_and_a_copy_adds_nothing(tmp_path: Path) -> None:
    first, copy = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    first.write_text(event(1) + "\n\n" + event(2) + "\n")
    copy.write_bytes(first.read_bytes())
    db_path = tmp_path / "w.duckdb"
    connection = warehouse.connect(db_path)
    try:
        warehouse.ensure_landing_tables(connection, "landing")
        seen: list[tuple[str, int | None]] = []
        counts = loading.load_files(
            connection, "landing", "L1", [first, copy], tmp_path, lambda p, n: seen.append((p.name, n))
        )
        ledger = connection.execute("select file_path, row_count from landing.loaded_files").fetchall()
    finally:
        connection.close()
    assert (counts.files, counts.rows, counts.skipped_files) == (1, 2, [str(copy)])
    assert ledger == [(str(first), 2)]
    assert sorted(seen, key=str) == [("a.ndjson", 2), ("b.ndjson", None)]


line_text = st.one_of(
    st.builds(event, st.integers(0, 10**6)),
    st.sampled_from(["", " ", "\t", "\r", "{", "[1]", '"x"', "\ufeff", "\u00a0", "{}", "null"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\n"), max_size=30),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_text, max_size=40), ending=st.sampled_from(["\n", "\r\n"]), bom=st.booleans(),
       packed=st.booleans())  # fmt: skip
def test_duckdb_reads_every_ndjson_file_exactly_as_the_python_reader(
    tmp_path: Path, lines: list[str], ending: str, bom: bool, packed: bool
) -> None:
    if lines and lines[0].lstrip().startswith("["):
        lines[0] = "x" + lines[0]  # a file whose first line opens an array is read as a JSON array
    data = (b"\xef\xbb\xbf" if bom else b"") + ending.join(lines).encode()
    name = f"{len(list(tmp_path.iterdir()))}.ndjson"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if packed else data)
    assert load(tmp_path, [path], load_id=f"L{name[:-7]}") == python_rows(path)
