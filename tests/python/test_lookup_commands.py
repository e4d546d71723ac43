"""idr profile, explain, graph and sql on the demo: look up one person, say why two identifiers are or
are not one profile, draw the identity graph, and query the marts, all read-only from the published copy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import pytest
from conftest import assert_one_line_error, copy_warehouse, held_for_writing, query, run_idr

from idr.publishing import reader_path
from idr.warehouse_files import marts_path

IPAD = "ios.id:ios_rivera_family_ipad"


def jane_profile_id(demo_db: Path) -> str:
    [(profile_id,)] = query(demo_db, "select profile_id from profile_identifiers where identifier_value = 'abc123def'")
    return str(profile_id)


def test_a_profile_is_found_by_an_email_typed_as_the_user_has_it(demo_db: Path) -> None:
    result = run_idr("profile", "email:  JaneDoe@Example.com ", "--db", demo_db, "--events", "3")
    profile_id = jane_profile_id(demo_db)
    assert result.stdout.startswith(f"Profile {profile_id} ")
    for identifier in (
        "abc123def",
        "janedoe@example.com",
        "ios_abc123",
        "and_1a2b3c4d",
        "anon_123",
        "anon_456",
        "anon_789",
    ):
        assert identifier in result.stdout
    assert "Jane Doe" in result.stdout  # her name trait
    assert "Latest events (3)" in result.stdout
    assert "Workout Viewed" in result.stdout  # her latest track, in SegRuns


def test_user_id_and_profile_ids_find_the_same_profile_and_user_ids_keep_their_case(demo_db: Path) -> None:
    profile_id = jane_profile_id(demo_db)
    by_user = run_idr("profile", "user_id:abc123def", "--db", demo_db).stdout
    by_id = run_idr("profile", f"profile:{profile_id}", "--db", demo_db).stdout
    by_anonymous = run_idr("profile", "anonymous_id:anon_789", "--db", demo_db).stdout
    assert by_user.splitlines()[1:] == by_id.splitlines()[1:] == by_anonymous.splitlines()[1:]
    missing = run_idr("profile", "user_id:ABC123DEF", "--db", demo_db, expect=2)
    assert_one_line_error(missing.stderr, "user_id:ABC123DEF", "not found")


def test_a_merged_away_profile_id_finds_the_profile_it_merged_into(tmp_path: Path, demo_db: Path) -> None:
    """profile_id_map resolves an old id: on a copy whose map holds one, as a later night would write it."""
    copy = tmp_path / "identity.duckdb"
    copy_warehouse(demo_db, copy)
    connection = duckdb.connect(str(marts_path(copy)))
    connection.execute(
        "insert into profile_id_map (profile_id_ever, profile_id, merge_hops) values ('prof_old', ?, 1)",
        [jane_profile_id(demo_db)],
    )
    connection.close()
    result = run_idr("profile", "profile:prof_old", "--db", copy)
    assert result.stdout.startswith(f"Profile {jane_profile_id(demo_db)} (found by profile:prof_old)")
    unknown = run_idr("profile", "profile:prof_never", "--db", copy, expect=2)
    assert_one_line_error(unknown.stderr, "prof_never", "not found")


def test_profile_json_has_the_shapes_of_segments_profile_api(demo_db: Path) -> None:
    document = json.loads(run_idr("profile", "email:janedoe@example.com", "--json", "--db", demo_db).stdout)
    assert document["segment_id"] == jane_profile_id(demo_db)
    assert document["traits"]["traits"]["name"] == "Jane Doe"
    ids = {(entry["type"], entry["id"]) for entry in document["external_ids"]["data"]}
    assert ("user_id", "abc123def") in ids and ("email", "janedoe@example.com") in ids and len(ids) == 7
    events = document["events"]["data"]
    assert len(events) == 10 and {"type", "event", "message_id", "timestamp", "properties"} <= set(events[0])
    timestamps = [event["timestamp"] for event in events]
    assert timestamps == sorted(timestamps, reverse=True)  # the latest first
    assert document["links"] == {"data": [], "cursor": {"url": None, "has_more": False, "next": None}}


def test_explain_gives_the_chain_of_links_across_janes_devices(demo_db: Path) -> None:
    result = run_idr("explain", "ios.id:ios_abc123", "android.id:and_1a2b3c4d", "--db", demo_db)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ios.id:ios_abc123 and android.id:and_1a2b3c4d are in one profile")
    links = [line for line in lines if line.lstrip()[:2].rstrip(".").isdigit()]
    assert len(links) >= 2  # her iPhone and her Android phone never appear in one event
    # the chain runs from one device to the other, each link with the event that first carried it
    assert "ios.id:ios_abc123" in links[0] and "android.id:and_1a2b3c4d" in links[-1]
    assert sum(1 for line in lines if line.strip().startswith("first event: ")) >= len(links)
    assert "first seen 2023-03-01 09:0" in result.stdout  # the iPhone's link to her user id, on 1 March


def test_explain_on_the_family_ipad_shows_the_refused_link_and_the_user_id_limit(demo_db: Path) -> None:
    result = run_idr("explain", "user_id:user_alex_rivera", IPAD, "--db", demo_db)
    assert "are in different profiles: merge protection refused" in result.stdout
    assert "user_id:user_alex_rivera — ios.id:ios_rivera_family_ipad" in result.stdout
    assert "would hold 2 user_id values, over the limit of 1" in result.stdout


def test_explain_says_when_two_identifiers_were_never_linked(demo_db: Path) -> None:
    result = run_idr("explain", "user_id:abc123def", "user_id:user_alex_rivera", "--db", demo_db)
    assert "were never linked" in result.stdout
    bad = run_idr("explain", "abc123def", "user_id:user_alex_rivera", "--db", demo_db, expect=2)
    assert_one_line_error(bad.stderr, "TYPE:VALUE")


@pytest.mark.parametrize("suffix", [".svg", ".png", ".html"])
def test_graph_draws_jane_and_the_family_ipad(tmp_path: Path, demo_db: Path, suffix: str) -> None:
    jane = tmp_path / f"jane{suffix}"
    ipad = tmp_path / f"ipad{suffix}"
    assert (
        "7 identifiers, 13 links, 0 refused"
        in run_idr("graph", "email:janedoe@example.com", "--out", jane, "--db", demo_db).stdout
    )
    assert "3 refused" in run_idr("graph", IPAD, "--out", ipad, "--db", demo_db).stdout
    if suffix == ".png":
        assert jane.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and ipad.stat().st_size > 10_000
        return
    text = jane.read_text(encoding="utf-8")
    if suffix == ".svg":
        ElementTree.fromstring(text)  # well-formed
    for node in ("user_id:abc123def", "email:janedoe@example.com", "ios.id:ios_abc123", "anonymous_id:anon_789"):
        assert node in text
    ipad_text = ipad.read_text(encoding="utf-8")
    assert "user_id:user_sam_rivera" in ipad_text and "user_id:user_alex_rivera" in ipad_text  # across the refused link
    assert "refused link" in ipad_text  # the legend of the dashed lines


def test_graph_refuses_an_unknown_picture_format(tmp_path: Path, demo_db: Path) -> None:
    result = run_idr("graph", IPAD, "--out", tmp_path / "ipad.pdf", "--db", demo_db, expect=2)
    assert_one_line_error(result.stderr, "ipad.pdf", ".svg, .png or .html")


def test_sql_in_each_output_format(demo_db: Path) -> None:
    statement = (
        "select identifier_type, count(*) as identifiers from profile_identifiers group by 1 order by 2 desc, 1 limit 2"
    )
    expected = query(reader_path(demo_db), statement)
    table = run_idr("sql", statement, "--db", demo_db).stdout.splitlines()
    assert table[0].split() == ["identifier_type", "identifiers"] and set(table[1]) == {"-", " "}
    assert [line.split() for line in table[2:4]] == [[kind, str(count)] for kind, count in expected]
    assert table[4] == "(2 rows)"
    csv_lines = run_idr("sql", statement, "--csv", "--db", demo_db).stdout.splitlines()
    assert csv_lines == ["identifier_type,identifiers", *[f"{kind},{count}" for kind, count in expected]]
    json_rows = [json.loads(line) for line in run_idr("sql", statement, "--json", "--db", demo_db).stdout.splitlines()]
    assert json_rows == [{"identifier_type": kind, "identifiers": count} for kind, count in expected]


def test_sql_is_read_only_and_a_bad_query_is_one_line(demo_db: Path) -> None:
    refused = run_idr("sql", "delete from profiles", "--db", demo_db, expect=2)
    assert_one_line_error(refused.stderr, "read-only")
    bad = run_idr("sql", "select * from no_such_table", "--db", demo_db, expect=2)
    assert_one_line_error(bad.stderr, "no_such_table")
    assert query(demo_db, "select count(*) from profiles") == query(
        reader_path(demo_db), "select count(*) from profiles"
    )


def test_the_sql_prompt_reads_statements_until_quit(demo_db: Path) -> None:
    session = (
        "select 1 as one;\nselect count(*) as profiles\nfrom profiles;\nselect * from nowhere;\n.quit\nselect 2;\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "idr", "sql", "--db", str(demo_db)],
        input=session,
        capture_output=True,
        text=True,
        check=False,
    )
    [(profiles,)] = query(reader_path(demo_db), "select count(*) from profiles")
    assert result.returncode == 2  # piped input with a failed statement
    assert result.stdout.splitlines()[:3] == ["one", "---", "  1"]
    assert f"{profiles:>8}" in result.stdout.splitlines()
    assert "error: Catalog Error" in result.stdout and "nowhere" in result.stdout
    assert "  2" not in result.stdout.splitlines()  # nothing after .quit


def test_lookups_work_while_a_night_holds_the_warehouse(demo_db: Path) -> None:
    """A night holds the warehouse file for writing; the lookups read the published copy beside it."""
    with held_for_writing(demo_db):
        assert run_idr("profile", "user_id:abc123def", "--db", demo_db).stdout.startswith("Profile ")
        assert (
            "one profile"
            in run_idr("explain", "anonymous_id:anon_123", "anonymous_id:anon_789", "--db", demo_db).stdout
        )
        assert run_idr("sql", "select count(*) from profiles", "--db", demo_db, "--csv").stdout.startswith(
            "count_star()"
        )


def test_a_warehouse_being_built_before_its_first_publishing_is_busy(tmp_path: Path, demo_db: Path) -> None:
    unpublished = tmp_path / "identity.duckdb"
    copy_warehouse(demo_db, unpublished)
    assert run_idr("profile", "user_id:abc123def", "--db", unpublished).stdout.startswith("Profile ")  # read directly
    with held_for_writing(marts_path(unpublished)):
        busy = run_idr("profile", "user_id:abc123def", "--db", unpublished, expect=3)
        assert_one_line_error(busy.stderr, "being built", "no published copy")
    missing = run_idr("sql", "select 1", "--db", tmp_path / "nowhere.duckdb", expect=2)
    assert_one_line_error(missing.stderr, "no such warehouse")
    older = tmp_path / "older.duckdb"  # built before identifier_types was a mart
    copy_warehouse(demo_db, older)
    connection = duckdb.connect(str(marts_path(older)))
    connection.execute("drop table identifier_types")
    connection.close()
    before = run_idr("profile", "user_id:abc123def", "--db", older, expect=2)
    assert_one_line_error(before.stderr, "no identifier_types", "with this version first")
    assert run_idr("sql", "select count(*) from profiles", "--db", older, "--csv").stdout.startswith("count_star()")
