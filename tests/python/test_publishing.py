"""Publishing the marts for readers, on a hand-made warehouse (no dbt): the marts in the marts file beside
the warehouse file, and one view mart over a table of the warehouse file (as `privacy_requests` is). After
every publishing the readers' link opens exactly the warehouse's marts, in the older generation; a reader
holding a generation keeps what it opened; after a forget neither generation keeps what is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import readers_differences

from idr.file_rewrite import rewrite
from idr.publishing import Mart, generation_path, publish, reader_path
from idr.warehouse_files import marts_path

MARTS = [
    Mart("profiles"),
    Mart("profile_merges"),
    Mart("profile_id_map"),
    Mart("requests"),  # a view in the warehouse file
]

HOLDER = """
import duckdb, sys
connection = duckdb.connect(sys.argv[1], read_only=True)
print(connection.execute("select count(*) from profiles").fetchone()[0], flush=True)
sys.stdin.readline()
print(connection.execute("select count(*) from profiles").fetchone()[0], flush=True)
"""


def run_statements(path: Path, *statements: str) -> None:
    connection = duckdb.connect(str(path))
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def first_night(db_path: Path) -> None:
    run_statements(
        marts_path(db_path),
        "create table profiles as select 'p' || n as profile_id, n as event_count from range(100) as t(n)",
        "create table profile_merges as select 'q' || n as merged_profile_id from range(3) as t(n)",
        "create table profile_id_map as select profile_id as profile_id_ever, profile_id from profiles",
    )
    run_statements(
        db_path,
        "create table request_log as select 'r' || n as request_id from range(2) as t(n)",
        "create view requests as select request_id from request_log",
    )


def later_night(db_path: Path, night: int) -> None:
    run_statements(
        marts_path(db_path),
        f"delete from profiles where profile_id = 'p{night}'",
        f"insert into profiles values ('new{night}', {night})",
        f"insert into profile_merges values ('p{night}')",
        "create or replace table profile_id_map as select profile_id as profile_id_ever, profile_id from profiles",
    )
    run_statements(db_path, f"insert into request_log values ('r{night + 10}')")


def tables_of(path: Path) -> dict[str, str]:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        rows = connection.execute("select table_name, table_type from information_schema.tables").fetchall()
    finally:
        connection.close()
    return {str(name): str(kind) for name, kind in rows}


def test_each_night_publishes_the_marts_into_the_older_generation(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    first_night(db_path)
    first = publish(db_path, MARTS)
    assert first.generation == generation_path(db_path, 0)
    assert sorted(first.copied) == sorted(mart.name for mart in MARTS)
    assert reader_path(db_path).resolve() == generation_path(db_path, 0)
    assert readers_differences(db_path) == dict.fromkeys([m.name for m in MARTS], 0)
    assert tables_of(reader_path(db_path))["requests"] == "BASE TABLE", "a view of the warehouse file, as a table"

    for night in (2, 3, 4):
        later_night(db_path, night)
        published = publish(db_path, MARTS)
        assert published.generation == generation_path(db_path, (night + 1) % 2)
        assert reader_path(db_path).resolve() == published.generation
        assert readers_differences(db_path) == dict.fromkeys([m.name for m in MARTS], 0), night
    assert reader_path(db_path).is_symlink()
    assert not list(tmp_path.glob("*.pending")), "no copy left half-way"


def test_a_reader_holding_a_generation_keeps_it_and_never_stops_publishing(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    first_night(db_path)
    publish(db_path, MARTS)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(reader_path(db_path))], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "100"
        for night in (2, 3):  # the second night comes back to the generation the reader holds
            later_night(db_path, night)
            published = publish(db_path, MARTS)
        assert published.generation == generation_path(db_path, 0)
        assert set(readers_differences(db_path).values()) == {0}
        holder.stdin.write("again\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "100", "the reader still reads what it opened"
    finally:
        holder.kill()
        holder.wait()


def test_a_mart_no_longer_built_leaves_the_readers_copy(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    first_night(db_path)
    publish(db_path, MARTS)
    publish(db_path, MARTS[1:])
    assert set(tables_of(reader_path(db_path))) == {mart.name for mart in MARTS[1:]}


def test_a_fresh_publishing_leaves_nothing_gone_in_either_generation(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    first_night(db_path)
    marker = "forgotten-person-" + "x" * 40
    run_statements(marts_path(db_path), f"insert into profiles values ('{marker}', 1)")
    publish(db_path, MARTS)
    publish(db_path, MARTS)
    for generation in (0, 1):
        assert marker.encode() in generation_path(db_path, generation).read_bytes(), "the control"
    run_statements(marts_path(db_path), f"delete from profiles where profile_id = '{marker}'")
    rewrite(marts_path(db_path))  # as a forget's run does before it publishes
    publish(db_path, MARTS, fresh=True)
    for generation in (0, 1):
        assert marker.encode() not in generation_path(db_path, generation).read_bytes(), generation
    assert set(readers_differences(db_path).values()) == {0}


def test_a_copy_published_before_generations_is_replaced_by_the_link(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    first_night(db_path)
    reader_path(db_path).write_bytes(b"an older readers' file")
    publish(db_path, MARTS)
    assert reader_path(db_path).resolve() == generation_path(db_path, 0)
    assert set(readers_differences(db_path).values()) == {0}
