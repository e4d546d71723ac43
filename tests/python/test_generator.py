"""The event generator: deterministic, every hard case present, NDJSON and Parquet alike, the
pipeline resolves what it writes without merging people through shared devices or placeholders, and
a sharded population is split into disjoint people, whatever the number of processes."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import Counter
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest
from conftest import query, run_idr

from idr import warehouse
from idr_tools.accuracy import measure
from idr_tools.generate_events import PLACEHOLDER_ANONYMOUS_ID, PLACEHOLDER_DEVICE_ID, START, day_of, generate, split

PEOPLE, DAYS, SHARDS = 400, 20, 3
# What the unsharded generator wrote for PEOPLE, DAYS and seed 7 (every file, by name, in name order),
# since family tablets browse anonymously before each login: a one-shard run writes exactly this, so that
# benchmark inputs stay comparable. (A change of the mix changes it, and is said so here.)
ONE_SHARD_DIGEST = "54736966485c1b627dfb33ceb869afe87b0a06caacbe2aa4a3d04ace7e40b542"
PLACEHOLDERS = {PLACEHOLDER_ANONYMOUS_ID, PLACEHOLDER_DEVICE_ID}


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generated")
    folders = {"ndjson": root / "ndjson", "parquet": root / "parquet", "again": root / "again"}
    generate(PEOPLE, DAYS, folders["ndjson"], seed=7, file_format="ndjson", sessions_per_day=0.2)
    generate(PEOPLE, DAYS, folders["parquet"], seed=7, file_format="parquet", sessions_per_day=0.2)
    generate(PEOPLE, DAYS, folders["again"], seed=7, file_format="ndjson", sessions_per_day=0.2)
    return folders


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same population in SHARDS shards: written by two processes, by one, and gzipped."""
    root = tmp_path_factory.mktemp("sharded")
    folders = {"two_jobs": root / "two", "one_job": root / "one", "gzip": root / "gzip"}
    for name, jobs, file_format in (("two_jobs", 2, "ndjson"), ("one_job", 1, "ndjson"), ("gzip", 2, "ndjson.gz")):
        generate(PEOPLE, DAYS, folders[name], 7, file_format, 0.2, shards=SHARDS, jobs=jobs)
    return folders


def events_of(folder: Path) -> list[tuple[int, dict]]:
    """(day of the file, event) for every line of every day file, in order."""
    found = []
    for path in sorted(folder.glob("day-*.ndjson")):
        found += [(day_of(path), json.loads(line)) for line in path.read_text().splitlines()]
    return found


def truth_of(folder: Path) -> list[tuple[str, str]]:
    with (folder / "truth.csv").open() as handle:
        return [(row["message_id"], row["person"]) for row in csv.DictReader(handle)]


def digest_of(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def identifiers_of(event: dict) -> set[str]:
    """Every identifying value an event carries (placeholders from buggy SDKs left out)."""
    values = {event.get(key) for key in ("messageId", "userId", "anonymousId", "previousId", "groupId")}
    values |= {event.get("traits", {}).get("email"), event.get("context", {}).get("device", {}).get("id")}
    return {value for value in values if value} - PLACEHOLDERS


def test_one_shard_writes_what_the_unsharded_generator_wrote(streams: dict[str, Path]) -> None:
    assert digest_of(streams["ndjson"]) == ONE_SHARD_DIGEST


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
    late = [e for day, e in events if e["timestamp"][:10] < (START + timedelta(days=day)).date().isoformat()]
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
    anonymous_on_tablets: dict[str, set[str]] = {}
    for _, event in events:
        device = event.get("context", {}).get("device", {}).get("id", "")
        if "family" in device and "userId" not in event and event["type"] != "alias":
            anonymous_on_tablets.setdefault(device, set()).add(truth[event["messageId"]])
    assert any(len(p) > 1 for p in anonymous_on_tablets.values()), "both people browse a tablet before logging in"
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


def test_the_people_are_split_into_consecutive_disjoint_shards() -> None:
    shards = split(1_001, 4)
    assert [shard.people for shard in shards] == [250, 250, 250, 251]
    assert [shard.first_person for shard in shards] == [0, 250, 500, 750]
    assert {shard.count for shard in shards} == {4}
    assert len(split(2, 5)) == 2, "never an empty shard"
    assert [shard.stem(7) for shard in split(10, 1)] == ["day-0007"]
    assert [shard.stem(7) for shard in split(100, 10)][::9] == ["day-0007-part-01", "day-0007-part-10"]


def test_shards_write_the_same_files_with_any_number_of_processes(sharded: dict[str, Path]) -> None:
    names = sorted(path.name for path in sharded["two_jobs"].iterdir())
    assert names == sorted(path.name for path in sharded["one_job"].iterdir())
    assert len(names) == DAYS * SHARDS + 1, "one file per day and shard, and truth.csv"
    assert digest_of(sharded["two_jobs"]) == digest_of(sharded["one_job"])


def test_shards_share_no_identifier_and_the_truth_covers_every_message(sharded: dict[str, Path]) -> None:
    owners: dict[str, set[str]] = {}
    for path in sorted(sharded["two_jobs"].glob("day-*.ndjson")):
        part = path.stem.rsplit("-", 1)[1]
        for line in path.read_text().splitlines():
            for value in identifiers_of(json.loads(line)):
                owners.setdefault(value, set()).add(part)
    assert len({part for parts in owners.values() for part in parts}) == SHARDS
    assert not {value: parts for value, parts in owners.items() if len(parts) > 1}

    truth = truth_of(sharded["two_jobs"])
    assert len(truth) == len({message for message, _ in truth}), "one row per message"
    messages = {event["messageId"] for _, event in events_of(sharded["two_jobs"])}
    assert messages == {message for message, _ in truth}
    person_of = dict(truth)
    people_by_part: dict[str, set[int]] = {}
    for path in sorted(sharded["two_jobs"].glob("day-*.ndjson")):
        people = people_by_part.setdefault(path.stem.rsplit("-", 1)[1], set())
        people |= {int(person_of[json.loads(line)["messageId"]]) for line in path.read_text().splitlines()}
    ranges = [(min(people), max(people)) for _, people in sorted(people_by_part.items())]
    assert all(high < low for (_, high), (low, _) in pairwise(ranges)), ranges
    assert ranges[0][0] >= 0 and ranges[-1][1] < PEOPLE


def test_sharded_files_gzip_alike(sharded: dict[str, Path]) -> None:
    for path in sorted(sharded["two_jobs"].glob("day-*.ndjson")):
        compressed = sharded["gzip"] / f"{path.name}.gz"
        assert gzip.decompress(compressed.read_bytes()) == path.read_bytes(), path.name
    assert (sharded["gzip"] / "truth.csv").read_bytes() == (sharded["two_jobs"] / "truth.csv").read_bytes()
