"""The event generator: deterministic, every hard case present, NDJSON and Parquet alike, and the
pipeline resolves what it writes without merging people through shared devices or placeholders."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import query, run_idr
from generate_events import PLACEHOLDER_ANONYMOUS_ID, START, generate

from idrlib import warehouse
from idrlib.accuracy import measure

PEOPLE, DAYS = 400, 20


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generated")
    folders = {"ndjson": root / "ndjson", "parquet": root / "parquet", "again": root / "again"}
    generate(PEOPLE, DAYS, folders["ndjson"], seed=7, file_format="ndjson", sessions_per_day=0.2)
    generate(PEOPLE, DAYS, folders["parquet"], seed=7, file_format="parquet", sessions_per_day=0.2)
    generate(PEOPLE, DAYS, folders["again"], seed=7, file_format="ndjson", sessions_per_day=0.2)
    return folders


def events_of(folder: Path) -> list[tuple[str, dict]]:
    """(file stem, event) for every line of every day file, in order."""
    found = []
    for path in sorted(folder.glob("day-*.ndjson")):
        found += [(path.stem, json.loads(line)) for line in path.read_text().splitlines()]
    return found


def test_the_same_seed_writes_the_same_files(streams: dict[str, Path]) -> None:
    names = sorted(p.name for p in streams["ndjson"].iterdir())
    assert names == sorted(p.name for p in streams["again"].iterdir())
    for name in names:
        assert (streams["ndjson"] / name).read_bytes() == (streams["again"] / name).read_bytes(), name


def test_every_hard_case_is_in_the_stream(streams: dict[str, Path]) -> None:
    events = events_of(streams["ndjson"])
    with (streams["ndjson"] / "truth.csv").open() as handle:
        truth = {row["message_id"]: row["person"] for row in csv.DictReader(handle)}
    copies = Counter(event["messageId"] for _, event in events)
    assert set(copies) == set(truth), "every message has exactly one true person"
    assert any(count > 1 for count in copies.values()), "retried messages (duplicates)"
    assert {event["type"] for _, event in events} == {"identify", "track", "page", "screen", "alias", "group"}
    late = [e for stem, e in events if e["timestamp"][:10] < (START + timedelta(days=int(stem[4:]))).date().isoformat()]
    assert late, "events written into a later day's file than the day they happened"
    assert any(e.get("anonymousId") == PLACEHOLDER_ANONYMOUS_ID for _, e in events), "placeholder anonymousIds"

    def people_on(key: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for _, event in events:
            value = event.get("context", {}).get("device", {}).get("id") if key == "device" else event.get(key)
            if value and value != PLACEHOLDER_ANONYMOUS_ID:
                found.setdefault(value, set()).add(truth[event["messageId"]])
        return found

    assert any(len(p) > 1 for d, p in people_on("device").items() if "family" in d), "shared family tablets"
    assert any(len(p) > 2 for p in people_on("anonymousId").values()), "store kiosks: many people, one anonymousId"
    changed = {
        truth[e["messageId"]]
        for _, e in events
        if e["type"] == "identify" and e["traits"]["email"].endswith(".new@example.com")
    }
    assert changed, "people who changed their email"


def test_parquet_holds_the_same_events_as_ndjson(streams: dict[str, Path]) -> None:
    connection = duckdb.connect()
    try:
        rows = connection.execute(
            "select to_json(events)::varchar from read_parquet(?) as events order by filename, file_row_number",
            [str(streams["parquet"] / "day-*.parquet")],
        ).fetchall()
    finally:
        connection.close()
    from_parquet = [{k: v for k, v in json.loads(text).items() if v is not None} for (text,) in rows]
    assert from_parquet == [event for _, event in events_of(streams["ndjson"])]


def test_both_formats_resolve_alike_and_shared_devices_merge_nobody(streams: dict[str, Path], tmp_path: Path) -> None:
    built = {}
    for name in ("ndjson", "parquet"):
        db_path = tmp_path / f"{name}.duckdb"
        run_idr("run", "--events", streams[name], "--db", db_path, "--quiet")
        built[name] = db_path
    for table, columns in (
        ("profile_identifiers", "profile_id, identifier_type, identifier_value"),
        ("profile_events", "profile_id, message_id, timeline_position"),
    ):
        sql = f"select {columns} from {table} order by all"
        assert query(built["ndjson"], sql) == query(built["parquet"], sql), table

    connection = warehouse.connect(built["ndjson"], read_only=True)
    try:
        accuracy = measure(connection, streams["ndjson"] / "truth.csv")
    finally:
        connection.close()
    assert accuracy.shared_identifiers > 0
    assert accuracy.over_merged_profiles == 0
    assert accuracy.identifiers.precision == 1.0
    assert accuracy.events_with_an_owned_identifier.precision >= 0.99
