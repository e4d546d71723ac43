"""The SQL pipeline agrees exactly with the plain-Python reference on many random event streams,
all resolved in one build (disjoint identifiers per stream)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from conftest import query, run_idr
from event_streams import stream
from reference_identity import Resolution, resolve

STREAMS = int(os.environ.get("IDR_REFERENCE_STREAMS", "200"))
SEED = int(os.environ.get("IDR_REFERENCE_SEED", "20261123"))


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[list[dict]], Path]:
    rng = random.Random(SEED)
    streams = [stream(number, rng, events=rng.randint(1, 40)) for number in range(STREAMS)]
    folder = tmp_path_factory.mktemp("streams")
    events_file = folder / "streams.ndjson"
    with events_file.open("w", encoding="utf-8") as handle:
        for events in streams:
            for event in events:
                handle.write(json.dumps(event) + "\n")
    db_path = folder / "identity.duckdb"
    run_idr("run", "--events", events_file, "--db", db_path, "--quiet")
    return streams, db_path


def stream_of(message_or_value: str) -> str:
    return message_or_value.split("-", 1)[0].split(".", 1)[0]


def test_sql_matches_the_reference_on_every_stream(resolved: tuple[list[list[dict]], Path]) -> None:
    streams, db_path = resolved
    expected = Resolution()
    for events in streams:
        part = resolve(events)
        expected.profile_of_identifier.update(part.profile_of_identifier)
        expected.profile_of_event.update(part.profile_of_event)
        expected.unidentified_events |= part.unidentified_events
        expected.rejected_events |= part.rejected_events

    identifiers = {
        (t, v): p
        for p, t, v in query(db_path, "select profile_id, identifier_type, identifier_value from profile_identifiers")
    }
    events = dict(query(db_path, "select message_id, profile_id from profile_events"))
    rejected = dict(query(db_path, "select message_id, rejection_reason from rejected_events"))

    mismatched_streams = sorted(
        {
            stream_of(value)
            for (_, value), p in identifiers.items()
            if expected.profile_of_identifier.get((_, value)) != p
        }
        | {stream_of(value) for (_, value) in expected.profile_of_identifier.keys() - identifiers.keys()}
    )
    assert not mismatched_streams, f"streams whose identifiers differ from the reference: {mismatched_streams[:10]}"
    assert identifiers == expected.profile_of_identifier
    assert len(identifiers) > STREAMS * 5
    assert events == expected.profile_of_event
    assert {m for m, reason in rejected.items() if reason == "no_usable_identifier"} == expected.unidentified_events
    assert {m for m, reason in rejected.items() if reason != "no_usable_identifier"} == expected.rejected_events


def test_the_streams_exercise_the_rules(resolved: tuple[list[list[dict]], Path]) -> None:
    """Guard against a generator that stops producing the hard cases."""
    streams, _ = resolved
    everything = resolve([event for events in streams for event in events])
    profiles_per_stream: dict[str, set[str]] = {}
    for (_, value), profile_id in everything.profile_of_identifier.items():
        profiles_per_stream.setdefault(stream_of(value), set()).add(profile_id)
    assert sum(len(p) > 1 for p in profiles_per_stream.values()) > STREAMS // 10
    assert len(everything.unidentified_events) > 0
    assert len(everything.rejected_events) > 0
    types = {t for t, _ in everything.profile_of_identifier}
    assert {"user_id", "anonymous_id", "email", "ios.id", "android.id", "crm_id"} <= types
