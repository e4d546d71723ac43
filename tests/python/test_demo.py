"""The bundled demo: Jane Doe's SegKicks/SegRuns journey from Segment's guide, plus a crowd."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import SEEDS_DIR, query, run_idr

JANE_IDENTIFIERS = {
    ("anonymous_id", "anon_123"),
    ("anonymous_id", "anon_456"),
    ("anonymous_id", "anon_789"),
    ("ios.id", "ios_abc123"),
    ("android.id", "and_1a2b3c4d"),
    ("user_id", "abc123def"),
    ("email", "janedoe@example.com"),
}
JANE_IDS = {"anon_123", "anon_456", "anon_789", "abc123def"}


def seed_rows() -> dict[str, list[dict[str, str]]]:
    rows = {}
    for path in sorted(SEEDS_DIR.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows[path.stem] = list(csv.DictReader(handle))
    return rows


def jane_profile_id(db_path: Path) -> str:
    rows = query(db_path, "select profile_id from profile_identifiers where identifier_value = 'abc123def'")
    assert len(rows) == 1
    return rows[0][0]


def test_jane_is_one_profile_holding_exactly_her_identifiers(demo_db: Path) -> None:
    profile_id = jane_profile_id(demo_db)
    rows = query(
        demo_db, "select identifier_type, identifier_value from profile_identifiers where profile_id = ?", [profile_id]
    )
    assert set(rows) == JANE_IDENTIFIERS
    assert len(rows) == len(JANE_IDENTIFIERS)


def test_all_of_janes_events_are_on_her_timeline_in_time_order(demo_db: Path) -> None:
    jane_messages = {
        row["id"]
        for table in seed_rows().values()
        for row in table
        if row.get("anonymous_id") in JANE_IDS or row.get("user_id") in JANE_IDS
    }
    assert len(jane_messages) == 12
    profile_id = jane_profile_id(demo_db)
    timeline = query(
        demo_db,
        "select message_id, profile_id, timeline_position, occurred_at from profile_events "
        "where message_id in (select unnest(?::varchar[])) order by timeline_position",
        [sorted(jane_messages)],
    )
    assert {message_id for message_id, *_ in timeline} == jane_messages
    assert {row[1] for row in timeline} == {profile_id}
    assert [row[2] for row in timeline] == list(range(1, len(jane_messages) + 1))
    times = [row[3] for row in timeline]
    assert times == sorted(times)
    profile = query(demo_db, "select user_id, email, event_count from profiles where profile_id = ?", [profile_id])
    assert profile == [("abc123def", "janedoe@example.com", len(jane_messages))]


def test_janes_traits_are_her_latest_values(demo_db: Path) -> None:
    traits = dict(
        query(demo_db, "select trait, value from profile_traits where profile_id = ?", [jane_profile_id(demo_db)])
    )
    assert traits == {"email": "janedoe@example.com", "name": "Jane Doe", "plan": "free"}


def test_every_seed_row_is_on_a_timeline_or_rejected_with_a_reason(demo_db: Path) -> None:
    total_rows = sum(len(rows) for rows in seed_rows().values())
    [(timeline_rows,)] = query(demo_db, "select count(*) from profile_events")
    [(rejected_rows,)] = query(demo_db, "select count(*) from rejected_events")
    assert timeline_rows + rejected_rows == total_rows
    reasons = dict(query(demo_db, "select rejection_reason, count(*) from rejected_events group by 1"))
    # make_demo_seeds.add_rejects plants one of each.
    assert reasons == {
        "duplicate_message_id": 1,
        "missing_identity": 1,
        "no_usable_identifier": 1,
        "invalid_timestamp": 1,
    }


def test_no_identifier_is_a_placeholder_or_in_two_profiles(demo_db: Path) -> None:
    [(duplicates,)] = query(
        demo_db,
        "select count(*) from (select identifier_type, identifier_value from profile_identifiers "
        "group by all having count(distinct profile_id) > 1)",
    )
    assert duplicates == 0
    placeholders = query(
        demo_db, "select * from profile_identifiers where identifier_value like '00000000-%' or identifier_value = ''"
    )
    assert placeholders == []


def test_the_same_input_gives_the_same_profile_ids(demo_db: Path, tmp_path: Path) -> None:
    second = tmp_path / "again.duckdb"
    run_idr("run", "--db", second, "--quiet")
    sql = "select profile_id, identifier_type, identifier_value from profile_identifiers order by all"
    assert query(second, sql) == query(demo_db, sql)


def test_shared_devices_do_not_fuse_their_users(demo_db: Path) -> None:
    owners = dict(
        query(
            demo_db,
            "select i.identifier_value, p.user_id from profile_identifiers as i inner join profiles as p "
            "using (profile_id) where i.identifier_value in ('ios_rivera_family_ipad', 'and_store_kiosk_01')",
        )
    )
    # each device stays with the first person who signed in on it
    assert owners == {"ios_rivera_family_ipad": "user_sam_rivera", "and_store_kiosk_01": "user_0001"}
    user_ids = [
        user_id
        for (user_id,) in query(
            demo_db, "select identifier_value from profile_identifiers where identifier_type = 'user_id'"
        )
    ]
    [(profiles_with_user,)] = query(demo_db, "select count(*) from profiles where user_id is not null")
    assert profiles_with_user == len(user_ids) == len(set(user_ids))
    limits = {row[0] for row in query(demo_db, "select limit_identifier_type from identity_violations")}
    assert limits == {"user_id"}
