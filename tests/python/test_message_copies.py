"""Repeated messageIds: of the usable copies one run loads, the first received (then loaded) is kept;
the others are rejected as duplicate_message_id with their own raw text; a copy of an event an earlier
run accepted is rejected too."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import query, run_idr


def event(message_id: str, received_at: str, anonymous_id: str, **fields: object) -> dict[str, object]:
    return {
        "messageId": message_id,
        "type": "track",
        "event": "Viewed",
        "anonymousId": anonymous_id,
        "timestamp": "2024-01-01T00:00:00Z",
        "receivedAt": received_at,
        **fields,
    }


def lines(*events: dict[str, object]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def outcome(db_path: Path) -> list[tuple[object, ...]]:
    return query(
        db_path,
        "select source_name, source_row, message_id, rejection_reason, raw_text is not null "
        "from int_events_validated order by source_name, source_row, raw_text",
    )


def test_the_first_received_copy_is_kept_and_the_others_keep_their_text(tmp_path: Path) -> None:
    day = tmp_path / "day.ndjson"
    day.write_text(
        lines(
            event("m1", "2024-01-01T00:00:10Z", "a-late"),  # received last: a duplicate
            event("m1", "2024-01-01T00:00:05Z", "a-first"),  # received first: kept
            event("m2", "2024-01-01T00:00:01Z", "a2"),
            event("m1", "2024-01-01T00:00:07Z", "a-middle"),
        )
    )
    db_path = tmp_path / "identity.duckdb"
    run_idr("run", "--events", day, "--db", db_path, "--quiet")
    name = str(day.resolve())
    assert outcome(db_path) == [
        (name, 1, "m1", "duplicate_message_id", True),
        (name, 2, "m1", None, False),
        (name, 3, "m2", None, False),
        (name, 4, "m1", "duplicate_message_id", True),
    ]
    rejected = query(db_path, "select source_row, rejection_detail, raw_text from rejected_events order by 1")
    assert [(row, detail) for row, detail, _ in rejected] == [
        (1, "messageId m1 was already accepted from an earlier row"),
        (4, "messageId m1 was already accepted from an earlier row"),
    ]
    assert [json.loads(text)["anonymousId"] for *_, text in rejected] == ["a-late", "a-middle"]
    assert sorted(query(db_path, "select anonymous_id from profile_events")) == [("a-first",), ("a2",)]


def test_copies_on_one_line_of_a_json_array_keep_exactly_one(tmp_path: Path) -> None:
    same = event("m1", "2024-01-01T00:00:05Z", "a1")
    batch = tmp_path / "batch.json"
    batch.write_text("[" + json.dumps(same) + ", " + json.dumps(same) + ", " + json.dumps(same) + "]\n")
    db_path = tmp_path / "identity.duckdb"
    run_idr("run", "--events", batch, "--db", db_path, "--quiet")
    reasons = sorted(str(reason) for *_, reason, _ in outcome(db_path))
    assert reasons == ["None", "duplicate_message_id", "duplicate_message_id"]
    texts = query(db_path, "select raw_text from rejected_events")
    assert [json.loads(text) for (text,) in texts] == [same, same]


def test_a_copy_of_an_event_accepted_by_an_earlier_run_is_a_duplicate(tmp_path: Path) -> None:
    first, second = tmp_path / "first.ndjson", tmp_path / "second.ndjson"
    first.write_text(lines(event("m1", "2024-01-02T00:00:00Z", "a1")))
    second.write_text(
        lines(event("m1", "2024-01-01T00:00:00Z", "a-earlier"), event("m2", "2024-01-01T00:00:00Z", "a2"))
    )
    db_path = tmp_path / "identity.duckdb"
    run_idr("run", "--events", first, "--db", db_path, "--quiet")
    run_idr("run", "--events", second, "--db", db_path, "--quiet")
    assert [row[2:4] for row in outcome(db_path)] == [("m1", None), ("m1", "duplicate_message_id"), ("m2", None)]
    assert sorted(query(db_path, "select message_id, anonymous_id from profile_events")) == [
        ("m1", "a1"),
        ("m2", "a2"),
    ]
