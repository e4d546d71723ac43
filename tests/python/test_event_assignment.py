"""Events on shared identifiers follow the person, night after night: a family tablet becomes shared when its
second user logs in, and a kiosk page view moves to the person whose identify, a night later, ends its
session. Each night is checked against one load of everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import query, run_idr


def event(message_id: str, call: str, at: str, **fields: object) -> dict:
    found: dict = {"messageId": message_id, "type": call, "timestamp": f"2024-03-{at}Z", "context": {}}
    if "device" in fields:
        found["context"]["device"] = {"type": "ios", "id": fields.pop("device")}
    if call == "track":
        found["event"] = "Viewed"
    return {**found, **fields}


NIGHTS = [
    [
        # Alice logs in on the family tablet; Bob browses it in his own install, not logged in yet
        event("t1", "identify", "01T09:00:00", userId="alice", anonymousId="anon-alice-tab", device="tablet"),
        event("t2", "track", "01T20:00:00", anonymousId="anon-bob-tab", device="tablet"),
        # two shoppers log in on the kiosk browser; a page view later that day, nobody logged in yet
        event("k1", "identify", "02T09:00:00", userId="carol", anonymousId="kiosk"),
        event("k2", "identify", "02T11:00:00", userId="dave", anonymousId="kiosk"),
        event("k3", "page", "02T15:00:00", anonymousId="kiosk"),
        event("k4", "page", "02T15:10:00", anonymousId="kiosk"),
    ],
    [
        # Bob logs in on the tablet: it is shared now
        event("t3", "identify", "03T09:00:00", userId="bob", anonymousId="anon-bob-tab", device="tablet"),
        # the identify that ended the kiosk session arrives a night late
        event("k5", "identify", "02T15:25:00", userId="erin", anonymousId="kiosk"),
    ],
]


def write(events: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def assignments(db_path: Path) -> dict[str, tuple[str, str]]:
    rows = query(
        db_path,
        "select e.message_id, p.user_id, e.assignment_reason "
        "from profile_events as e inner join profiles as p using (profile_id)",
    )
    return {message_id: (user_id, reason) for message_id, user_id, reason in rows}


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dict, dict]]:
    """(after night N, one load of nights 1..N) for each night."""
    folder = tmp_path_factory.mktemp("assignment")
    inbox = folder / "inbox"
    inbox.mkdir()
    nightly = folder / "nightly.duckdb"
    results = []
    for number, events in enumerate(NIGHTS):
        write(events, inbox / f"night-{number}.ndjson")
        run_idr("nightly", "--events", inbox, "--db", nightly, "--reports", folder / "reports", "--quiet")
        everything = folder / f"all-{number}.duckdb"
        so_far = [e for night in NIGHTS[: number + 1] for e in night]
        run_idr("run", "--events", write(so_far, folder / f"all-{number}.ndjson"), "--db", everything, "--quiet")
        results.append((assignments(nightly), assignments(everything)))
    return results


def test_the_first_night(nights: list[tuple[dict, dict]]) -> None:
    after, everything = nights[0]
    assert after == everything
    # the tablet is not shared yet: Bob's browsing is on its only user's profile
    assert after["t2"] == ("alice", "identifier")
    # the kiosk is shared (two user ids); no identify follows the page views in their session
    assert after["k3"] == after["k4"] == ("carol", "shared_identifier")


def test_the_second_night_moves_the_events_to_their_people(nights: list[tuple[dict, dict]]) -> None:
    after, everything = nights[1]
    assert after == everything
    assert after["t2"] == ("bob", "unshared_identifier")
    assert after["t1"] == ("alice", "identifier")
    assert after["k3"] == after["k4"] == ("erin", "session")
    assert after["k1"] == ("carol", "identifier") and after["k2"] == ("dave", "identifier")
