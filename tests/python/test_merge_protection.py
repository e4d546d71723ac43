"""Merge protection on the shared-device story of docs/resolution.md: three people, one family iPad, one
reused email. Checked against the rule as docs/resolution.md states it, not against the implementation."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES_DIR, query, run_idr

SHARED = FIXTURES_DIR / "shared_device.ndjson"


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_path = tmp_path_factory.mktemp("shared") / "identity.duckdb"
    run_idr("run", "--events", SHARED, "--db", db_path, "--quiet")
    return db_path


def profiles_by_user(db_path: Path) -> dict[str, set[tuple[str, str]]]:
    rows = query(
        db_path,
        "select p.user_id, i.identifier_type, i.identifier_value from profile_identifiers as i "
        "inner join profiles as p using (profile_id)",
    )
    result: dict[str, set[tuple[str, str]]] = {}
    for user_id, identifier_type, value in rows:
        result.setdefault(user_id, set()).add((identifier_type, value))
    return result


def test_three_people_stay_three_profiles(shared_db: Path) -> None:
    assert profiles_by_user(shared_db) == {
        # the iPad stays with Alice, who used it first; so does the email she registered
        "alice": {
            ("user_id", "alice"),
            ("email", "alice@example.com"),
            ("ios.id", "ipad-family"),
            ("anonymous_id", "anon-ipad-1"),
            ("ios.id", "alice-iphone"),
            ("anonymous_id", "anon-alice-phone"),
        },
        # Bob's iPad session id was identified with Bob directly: it is his, not the iPad owner's
        "bob": {
            ("user_id", "bob"),
            ("email", "bob@example.com"),
            ("anonymous_id", "anon-ipad-2"),
            ("android.id", "bob-pixel"),
            ("anonymous_id", "anon-bob-phone"),
        },
        # Carol reused Alice's email: it is not pulled into Carol's profile
        "carol": {("user_id", "carol"), ("anonymous_id", "anon-carol"), ("android.id", "carol-phone")},
    }


def test_events_follow_the_person_on_the_shared_ipad(shared_db: Path) -> None:
    rows = query(
        shared_db,
        "select e.message_id, p.user_id, e.assigned_by_identifier_value, e.assignment_reason "
        "from profile_events as e inner join profiles as p using (profile_id)",
    )
    assert {message_id: rest for message_id, *rest in rows} == {
        # the iPad is shared (Alice and Bob, two user ids, were seen on it): each anonymous event on it
        # goes to the person of its own anonymous id
        "sd-01": ["alice", "anon-ipad-1", "unshared_identifier"],
        "sd-02": ["alice", "alice", "identifier"],
        "sd-03": ["alice", "alice", "identifier"],
        "sd-04": ["bob", "anon-ipad-2", "unshared_identifier"],
        "sd-05": ["bob", "bob", "identifier"],
        "sd-06": ["bob", "bob", "identifier"],
        "sd-07": ["bob", "bob", "identifier"],
        "sd-08": ["carol", "carol", "identifier"],
        "sd-09": ["carol", "carol", "identifier"],
    }
    shared = query(
        shared_db,
        "select k.identifier_value from int_identifiers_shared as s "
        "inner join int_identifiers_keyed as k using (identifier_key) where s.is_shared order by 1",
    )
    # Alice's email is shared too (Carol reused it); the anonymous ids on the iPad are not
    assert shared == [("alice@example.com",), ("ipad-family",)]


def test_every_refused_link_is_explained(shared_db: Path) -> None:
    violations = query(
        shared_db,
        "select identifier_a_type, identifier_a_value, identifier_b_type, identifier_b_value, limit_identifier_type, "
        "limit_value, combined_count from identity_violations",
    )
    refused = {(a_type, a_value, b_type, b_value) for a_type, a_value, b_type, b_value, *_ in violations}
    assert {
        ("user_id", "bob", "ios.id", "ipad-family"),
        ("user_id", "carol", "email", "alice@example.com"),
        ("ios.id", "ipad-family", "anonymous_id", "anon-ipad-2"),
    } <= refused
    for *_, limit_type, limit, combined in violations:
        assert (limit_type, limit) == ("user_id", 1)
        assert combined == 2
    # every link between two different profiles is reported, and no other
    [(cross_links,)] = query(
        shared_db,
        "select count(*) from identity_edges as e "
        "inner join profile_identifiers as a "
        "on e.identifier_a_type = a.identifier_type and e.identifier_a_value = a.identifier_value "
        "inner join profile_identifiers as b "
        "on e.identifier_b_type = b.identifier_type and e.identifier_b_value = b.identifier_value "
        "where a.profile_id <> b.profile_id",
    )
    assert cross_links == len(violations)


def test_every_refused_link_breaks_the_limit_it_names(shared_db: Path) -> None:
    rows = query(
        shared_db,
        "select v.identifier_a_value, v.identifier_b_value, v.limit_identifier_type, v.limit_value, count(*) "
        "from identity_violations as v "
        "inner join profile_identifiers as i on i.profile_id in (v.profile_a_id, v.profile_b_id) "
        "and i.identifier_type = v.limit_identifier_type group by all",
    )
    assert rows
    for *_, limit, combined in rows:
        assert combined > limit
