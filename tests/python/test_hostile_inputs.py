"""Hostile inputs, each in a file of its own, loaded and built in one `idr.py run`: every line gets its
own row and its own reason, placeholders and non-scalar ids fuse nobody, and only possible clocks count."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from conftest import query, run_idr

PLACEHOLDERS = ["guest", "test", "N/A", "nan", "[object Object]", "{}", "[]", "undefined"]
IMPOSSIBLE_CLOCKS = [
    "infinity",
    "-infinity",
    "epoch",
    "2024-05-01T10:00:00+25:00",
    "2024-05-01T10:00:00-18:30",
    "9999-01-01T00:00:00Z",
    "294247-01-01T00:00:00Z",
    "1500-01-01T00:00:00Z",
    "2024-05-01",  # a date is not a time
    "tomorrow",
]


def event(message_id: str, **fields: object) -> dict[str, object]:
    return {"messageId": message_id, "type": "track", "event": "Viewed", **fields}


def ndjson(events: list[dict[str, object]], ending: str = "\n") -> str:
    return "".join(json.dumps(item) + ending for item in events)


def write_files(folder: Path) -> None:
    at = "2024-05-01T10:00:00Z"
    # an NDJSON file whose first line is a JSON array
    (folder / "array_first.ndjson").write_text(
        "[1, 2, 3]\n" + ndjson([event(f"af-{n}", anonymousId=f"anon-af-{n}", timestamp=at) for n in range(20)])
    )
    # a JSON array after a byte-order mark
    bom_events = [event(f"bom-{n}", anonymousId=f"anon-bom-{n}", timestamp=at) for n in range(5)]
    (folder / "bom_array.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(bom_events, indent=2).encode())
    # CR-only line endings
    (folder / "cr_only.ndjson").write_text(
        ndjson([event(f"cr-{n}", anonymousId=f"anon-cr-{n}", timestamp=at) for n in range(3)], ending="\r"),
        newline="",
    )
    # a JSON array with one bad element among good ones
    good = [json.dumps(event(f"ba-{n}", anonymousId=f"anon-ba-{n}", timestamp=at)) for n in range(4)]
    (folder / "bad_element.json").write_text(
        "[\n" + ",\n".join([good[0], good[1], '{"messageId": "ba-bad", "type": tru}', good[2], good[3]]) + "\n]\n"
    )
    # placeholder user ids, each sent by two different people
    placeholder_events: list[dict[str, object]] = []
    for index, value in enumerate(PLACEHOLDERS):
        for person in (1, 2):
            placeholder_events.append(
                {
                    "messageId": f"ph-{index}-{person}",
                    "type": "identify",
                    "userId": value,
                    "anonymousId": f"anon-ph-{index}-{person}",
                    "traits": {"email": f"person{person}.{index}@example.com"},
                    "timestamp": at,
                }
            )
    # a placeholder no list blocks: one SDK's fixed user id, sent by seven people
    for person in range(7):
        placeholder_events.append(
            {
                "messageId": f"fixed-{person}",
                "type": "identify",
                "userId": "sdk-fixed-id",
                "anonymousId": f"anon-fixed-{person}",
                "traits": {"email": f"fixed{person}@example.com"},
                "timestamp": at,
            }
        )
    (folder / "placeholders.ndjson").write_text(ndjson(placeholder_events))
    # identifiers that are not strings or numbers
    (folder / "non_scalar.ndjson").write_text(
        ndjson(
            [
                event("ns-object", userId={"id": "u1"}, timestamp=at),
                event("ns-array", userId=["u1"], timestamp=at),
                event("ns-boolean", userId=True, anonymousId="anon-ns-boolean", timestamp=at),
                event("ns-anonymous", anonymousId={"a": 1}, userId="ns-user", timestamp=at),
                {"messageId": "ns-previous", "type": "alias", "previousId": ["x"], "userId": "ns-u2", "timestamp": at},
                {"messageId": "ns-group", "type": "group", "groupId": {"g": 1}, "userId": "ns-u3", "timestamp": at},
                event("ns-number", userId=12345, timestamp=at),
            ]
        )
    )
    # impossible clocks, and the extreme offsets that are possible
    (folder / "clocks.ndjson").write_text(
        ndjson(
            [
                event(f"clock-{n}", anonymousId=f"anon-clock-{n}", timestamp=value)
                for n, value in enumerate(IMPOSSIBLE_CLOCKS)
            ]
            + [
                event("clock-ok-east", anonymousId="anon-clock-ok-1", timestamp="2024-05-01T10:00:00+18:00"),
                event("clock-ok-west", anonymousId="anon-clock-ok-2", timestamp="2024-05-01T10:00:00-12:00"),
                event("clock-bad-sent-at", anonymousId="anon-clock-bad", sentAt="infinity", receivedAt=at),
            ]
        )
    )
    # times as Segment's own spec examples send them: none at all, or only the client's clock fields
    (folder / "times.ndjson").write_text(
        ndjson(
            [
                {"messageId": "t-none-identify", "type": "identify", "userId": "spec-1", "traits": {"name": "Ann"}},
                {"messageId": "t-none-track", "type": "track", "userId": "spec-1", "event": "Signed Up"},
                {
                    "messageId": "t-skewed",
                    "type": "track",
                    "userId": "spec-2",
                    "event": "Ordered",
                    "originalTimestamp": "2024-05-01T10:00:00Z",
                    "sentAt": "2024-05-01T10:00:05Z",
                    "receivedAt": "2024-05-01T12:00:10Z",
                },
                {
                    "messageId": "t-original-only",
                    "type": "track",
                    "userId": "spec-2",
                    "event": "Ordered",
                    "originalTimestamp": "2024-05-01T09:00:00Z",
                },
                {
                    "messageId": "t-timestamp-wins",
                    "type": "track",
                    "userId": "spec-2",
                    "event": "Ordered",
                    "timestamp": "2024-05-01T08:00:00Z",
                    "originalTimestamp": "2024-05-01T10:00:00Z",
                    "sentAt": "2024-05-01T10:00:05Z",
                    "receivedAt": "2024-05-01T12:00:10Z",
                },
            ]
        )
    )


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("hostile-events")
    write_files(folder)
    db_path = tmp_path_factory.mktemp("hostile") / "identity.duckdb"
    run_idr("run", "--events", folder, "--db", db_path, "--quiet")
    return folder, db_path


def outcomes(db_path: Path, file_name: str) -> dict[int, str | None]:
    """Each row of one file by line: its rejection reason, or None when it is on a timeline."""
    rows = query(
        db_path,
        "select v.source_row, coalesce(r.rejection_reason, case when p.message_id is not null then 'accepted' end) "
        "from int_events_validated as v "
        "left join rejected_events as r on v.source_name = r.source_name and v.source_row = r.source_row "
        "left join profile_events as p on v.message_id = p.message_id and v.rejection_reason is null "
        "where v.source_name like ?",
        [f"%/{file_name}"],
    )
    return {line: (None if reason == "accepted" else reason) for line, reason in rows}


def test_an_ndjson_file_whose_first_line_is_an_array_is_read_line_by_line(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    assert outcomes(db_path, "array_first.ndjson") == {1: "invalid_json", **{n: None for n in range(2, 22)}}


def test_a_json_array_after_a_byte_order_mark_is_read(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    found = outcomes(db_path, "bom_array.json")
    assert len(found) == 5 and set(found.values()) == {None}


def test_cr_only_line_endings_end_lines(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    assert outcomes(db_path, "cr_only.ndjson") == {1: None, 2: None, 3: None}


def test_one_bad_element_of_a_json_array_rejects_only_itself(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    found = outcomes(db_path, "bad_element.json")
    assert sorted(found.values(), key=str) == [None, None, None, None, "invalid_json"]
    [(raw_text,)] = query(db_path, "select raw_text from rejected_events where source_name like '%/bad_element.json'")
    assert raw_text == '{"messageId": "ba-bad", "type": tru}'


def test_placeholder_user_ids_identify_nobody(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    values = {value.lower() for value in PLACEHOLDERS}
    held = query(db_path, "select identifier_value from profile_identifiers where identifier_type = 'user_id'")
    assert not values & {value.lower() for (value,) in held}
    profiles = dict(query(db_path, "select message_id, profile_id from profile_events where message_id like 'ph-%'"))
    assert len(profiles) == 2 * len(PLACEHOLDERS)
    for index in range(len(PLACEHOLDERS)):
        assert profiles[f"ph-{index}-1"] != profiles[f"ph-{index}-2"], PLACEHOLDERS[index]


def test_values_that_would_join_many_people_are_suspected(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    suspected = query(
        db_path,
        "select identifier_type, identifier_value, linked_identifier_type, linked_value_count, linked_identifier_limit "
        "from suspected_placeholder_values order by all",
    )
    assert suspected == [
        ("user_id", "sdk-fixed-id", "anonymous_id", 7, 5),
        ("user_id", "sdk-fixed-id", "email", 7, 5),
    ]


def test_identifiers_that_are_not_strings_or_numbers_are_rejected(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    rejected = dict(
        query(db_path, "select message_id, rejection_reason from rejected_events where message_id like 'ns-%'")
    )
    assert rejected == {
        "ns-object": "invalid_identifier",
        "ns-array": "invalid_identifier",
        "ns-boolean": "invalid_identifier",
        "ns-anonymous": "invalid_identifier",
        "ns-previous": "invalid_identifier",
        "ns-group": "invalid_identifier",
    }
    [(detail,)] = query(db_path, "select rejection_detail from rejected_events where message_id = 'ns-object'")
    assert "userId" in detail and "object" in detail
    assert query(db_path, "select count(*) from profile_identifiers where identifier_value = '12345'") == [(1,)]


def test_impossible_clocks_are_invalid_timestamps(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    rejected = dict(
        query(
            db_path,
            "select message_id, rejection_detail from rejected_events where rejection_reason = 'invalid_timestamp'",
        )
    )
    for number, value in enumerate(IMPOSSIBLE_CLOCKS):
        assert value in rejected.pop(f"clock-{number}"), value
    assert "sentAt=infinity" in rejected.pop("clock-bad-sent-at")
    assert not {key for key in rejected if key.startswith("clock-")}
    occurred = dict(
        query(db_path, "select message_id, occurred_at from profile_events where message_id like 'clock-ok%'")
    )
    assert occurred == {
        "clock-ok-east": datetime(2024, 4, 30, 16, 0),
        "clock-ok-west": datetime(2024, 5, 1, 22, 0),
    }


def test_events_without_a_time_take_their_arrival(hostile_run: tuple[Path, Path]) -> None:
    _, db_path = hostile_run
    found = {
        message_id: (occurred_at, loaded_at, stamped)
        for message_id, occurred_at, loaded_at, stamped in query(
            db_path,
            "select p.message_id, p.occurred_at, v.loaded_at, p.is_received_at_stamped "
            "from profile_events as p inner join int_events_validated as v "
            "on p.message_id = v.message_id and v.rejection_reason is null "
            "where p.message_id like 't-%'",
        )
    }
    assert set(found) == {"t-none-identify", "t-none-track", "t-skewed", "t-original-only", "t-timestamp-wins"}
    for message_id in ("t-none-identify", "t-none-track"):
        occurred_at, loaded_at, stamped = found[message_id]
        assert occurred_at == loaded_at and stamped, message_id
    # the client's clock is corrected by the time the message spent between sending and arrival
    assert found["t-skewed"][0] == datetime(2024, 5, 1, 12, 0, 5)
    assert found["t-original-only"][0] == datetime(2024, 5, 1, 9, 0)
    assert found["t-timestamp-wins"][0] == datetime(2024, 5, 1, 8, 0)
    assert not any(found[key][2] for key in ("t-skewed", "t-original-only", "t-timestamp-wins"))
    traits = dict(
        query(
            db_path,
            "select trait, value from profile_traits where profile_id = "
            "(select profile_id from profile_events where message_id = 't-none-identify')",
        )
    )
    assert traits.get("name") == "Ann"


def test_a_loaded_warehouse_never_builds_the_demo(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    events = tmp_path / "mine.ndjson"
    events.write_text(
        ndjson([event(f"mine-{n}", userId=f"mine-{n}", timestamp="2024-05-01T10:00:00Z") for n in range(3)])
    )
    run_idr("load", "--events", events, "--db", db_path)
    run_idr("run", "--db", db_path, "--quiet")
    assert query(db_path, "select count(*) from int_events_validated") == [(3,)]
    assert query(db_path, "select count(*) from profiles") == [(3,)]
    # and a warehouse built from files stays one, run after run
    run_idr("run", "--db", db_path, "--quiet")
    assert query(db_path, "select count(*) from int_events_validated") == [(3,)]
    # unless the demo is asked for
    run_idr("run", "--db", db_path, "--segment-tables", "seeds", "--quiet")
    assert query(db_path, "select count(*) from int_events_validated where event_source = 'segment'")[0][0] > 0
