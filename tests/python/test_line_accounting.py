"""Line-level accounting on hostile files: Hypothesis writes folders of files (the hostile cases of
docs/inputs.md, random bytes, long lines, unicode, mixed formats and line endings, gzip) and two
nights load them; every input line (or JSON-array element) must end as exactly one row, on a timeline
(profile_events) or in rejected_events, found by its file and line."""

from __future__ import annotations

import gzip
import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import query, run_idr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BLANK = b" \t\r\n\v\f"
LINE_BREAK = re.compile(rb"\r\n|\r|\n")
message_ids = itertools.count()

HOSTILE_FIELDS = [
    {"userId": {"id": "u1"}},
    {"userId": ["u1"]},
    {"userId": True},
    {"userId": "guest"},
    {"userId": "[object Object]"},
    {"anonymousId": "nan"},
    {"timestamp": "infinity"},
    {"timestamp": "-infinity"},
    {"timestamp": "2024-01-01T00:00:00+25:00"},
    {"timestamp": "9999-12-31T00:00:00Z"},
    {"timestamp": None},
    {
        "originalTimestamp": "2024-01-01T00:00:00Z",
        "sentAt": "2024-01-01T00:00:09Z",
        "receivedAt": "2024-01-01T02:00:00Z",
    },
    {"type": "launch"},
    {"messageId": ""},
    {"event": None},
]


@st.composite
def events(draw: st.DrawFn) -> dict[str, object]:
    """A Segment track call, maybe with one hostile field and unicode in its properties."""
    event: dict[str, object] = {
        "messageId": f"m-{next(message_ids)}",
        "type": "track",
        "event": "Viewed",
        draw(st.sampled_from(["userId", "anonymousId"])): f"id-{draw(st.integers(0, 30))}",
        "timestamp": "2024-01-01T00:00:00Z",
        "properties": {"note": draw(st.text(max_size=20))},
    }
    if draw(st.booleans()):
        event.update(draw(st.sampled_from(HOSTILE_FIELDS)))
    return {key: value for key, value in event.items() if value is not None}


def lines() -> st.SearchStrategy[bytes]:
    """One line's bytes, without its end."""
    return st.one_of(
        events().map(lambda event: json.dumps(event, ensure_ascii=False).encode()),
        events().map(lambda event: json.dumps([event]).encode()),  # an array on one line
        st.sampled_from([b"[1, 2, 3]", b"{}", b"{", b"null", b'{"type": tru}', b"   ", b"\t\x0b\x0c", b""]),
        st.text(max_size=30).map(lambda text: text.replace("\r", "").replace("\n", "").encode()),
        st.binary(max_size=30).map(lambda data: LINE_BREAK.sub(b"", data)),
        st.integers(20_000, 200_000).map(lambda size: b'{"messageId": "long", "pad": "' + b"x" * size + b'"}'),
    )


@st.composite
def ndjson_files(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """An NDJSON file (first line a good event, so that it can never be one array) and the numbers of
    its lines that are not blank."""
    first = json.dumps(draw(events())).encode()
    body = draw(st.lists(lines(), max_size=12))
    endings = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(body) + 1, max_size=len(body) + 1))
    for number, line in enumerate(body):
        if endings[number] == b"\r" and not line and endings[number + 1] == b"\n":
            endings[number] = b"\n"  # a lone CR, an empty line and its LF are one CRLF: one line end, not two
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    data = bom + b"".join(line + end for line, end in zip([first, *body], endings, strict=True))
    if not draw(st.booleans()):
        data = data.removesuffix(endings[-1])
    expected = [number for number, line in enumerate([first, *body], start=1) if line.strip(BLANK)]
    return data, expected


@st.composite
def array_files(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A JSON-array file (elements good, bad or empty, on lines of their own or not) and the line each
    element starts on (an empty element: the line of the comma or bracket before it)."""
    elements = draw(
        st.lists(
            st.one_of(
                st.tuples(events(), st.sampled_from([None, 2])).map(lambda pair: json.dumps(pair[0], indent=pair[1])),
                st.sampled_from(['{"type": tru}', '"text, with [brackets]"', "12", "", '{"a": "}"}']),
            ),
            max_size=8,
        )
    )
    separators = draw(
        st.lists(st.sampled_from([",", ",\n", " ,\r\n  "]), min_size=len(elements), max_size=len(elements))
    )
    text, starts = ("\ufeff[\n" if draw(st.booleans()) else "["), []
    for index, (element, separator) in enumerate(zip(elements, separators, strict=True)):
        before = text if element else text.rstrip(" \t\r\n")
        starts.append(len(LINE_BREAK.findall(before.encode())) + 1)
        text += element + (separator if index < len(elements) - 1 else "")
    if elements == [""]:
        starts = []  # `[ ]` holds no element
    return (text + "\n]\n").encode(), starts


@st.composite
def folders(draw: st.DrawFn) -> list[tuple[str, bytes, list[int]]]:
    files = []
    for number in range(draw(st.integers(1, 5))):
        data, expected = draw(st.one_of(ndjson_files(), array_files()))
        name = f"f{number}.json" if data.lstrip(b"\xef\xbb\xbf").startswith(b"[") else f"f{number}.ndjson"
        if draw(st.booleans()):
            data, name = gzip.compress(data), name + ".gz"
        files.append((name, data, expected))
    return files


def accounted(db_path: Path) -> Counter[tuple[str, int]]:
    """(file name, line) of every row on a timeline or in rejected_events, with how often it is there."""
    rows = query(
        db_path,
        "select source_name, source_row from rejected_events "
        "union all "
        "select v.source_name, v.source_row from profile_events as p "
        "inner join int_events_validated as v on p.message_id = v.message_id and v.rejection_reason is null",
    )
    return Counter((Path(name).name, line) for name, line in rows)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(first_night=folders(), second_night=folders())
def test_every_line_of_every_hostile_file_is_one_row(
    tmp_path_factory: pytest.TempPathFactory,
    first_night: list[tuple[str, bytes, list[int]]],
    second_night: list[tuple[str, bytes, list[int]]],
) -> None:
    work = tmp_path_factory.mktemp("accounting")
    inbox, db_path = work / "inbox", work / "identity.duckdb"
    inbox.mkdir()
    expected: Counter[tuple[str, int]] = Counter()
    for night, files in (("a", first_night), ("b", second_night)):
        for name, data, lines_expected in files:
            (inbox / f"{night}-{name}").write_bytes(data)
            expected.update((f"{night}-{name}", line) for line in lines_expected)
        run_idr(
            "nightly",
            "--events",
            inbox,
            "--db",
            db_path,
            "--quiet",
            "--reports",
            work / "reports",
            "--logs",
            work / "logs",
        )
        assert accounted(db_path) == expected
