"""Publishing the marts for readers, on a hand-made warehouse (no dbt): after every publishing the
readers' link opens exactly the warehouse's marts, whether the older generation was updated with what
changed (over one night or two) or copied whole; a reader holding a generation keeps what it opened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import readers_differences

from idr.publishing import Mart, generation_path, publish, reader_path

MARTS = [
    Mart("profiles", is_incremental=True, unique_key=("profile_id",)),
    Mart("profile_traits", is_incremental=True, unique_key=("profile_id",)),  # not unique: one row per trait
    Mart("profile_merges", is_incremental=True),  # append-only
    Mart("profile_id_map"),  # rebuilt by every run
    Mart("suspected_placeholder_values"),  # a view
]
INCREMENTAL = ["profile_merges", "profile_traits", "profiles"]
WHOLE = ["profile_id_map", "suspected_placeholder_values"]

HOLDER = """
import duckdb, sys
connection = duckdb.connect(sys.argv[1], read_only=True)
print(connection.execute("select count(*) from profiles").fetchone()[0], flush=True)
sys.stdin.readline()
print(connection.execute("select count(*) from profiles").fetchone()[0], flush=True)
"""


def night(db_path: Path, batch: int, *statements: str) -> None:
    """A run of the warehouse at batch `batch` (its rows' batch_started_at is day `batch` of 2024)."""
    connection = duckdb.connect(str(db_path))
    try:
        for statement in statements:
            connection.execute(statement.replace("$batch", f"timestamp '2024-01-01' + interval {batch} day"))
    finally:
        connection.close()


def first_night(db_path: Path) -> None:
    night(
        db_path,
        1,
        "create table profiles as select 'p' || n as profile_id, n as event_count, $batch as batch_started_at "
        "from range(100) as t(n)",
        "create table profile_traits as select 'p' || (n // 2) as profile_id, 'trait' || (n % 2) as trait, "
        "'v' || n as value, $batch as batch_started_at from range(200) as t(n)",
        "create table profile_merges as select 'q' || n as merged_profile_id, $batch as batch_started_at "
        "from range(3) as t(n)",
        "create table profile_id_map as select profile_id as profile_id_ever, profile_id from profiles",
        "create view suspected_placeholder_values as select profile_id from profiles where event_count > 90",
    )


def later_night(db_path: Path, batch: int) -> None:
    """Rewrites profiles (the delete+insert of dbt), adds some, merges some away, drops a trait of a
    profile left unchanged and appends merges."""
    rewritten = f"profile_id in ('p{batch}', 'p{batch + 10}')"
    night(
        db_path,
        batch,
        f"delete from profiles where {rewritten}",
        f"insert into profiles values ('p{batch}', {1000 + batch}, $batch), ('p{batch + 10}', 7, $batch), "
        f"('new{batch}', 1, $batch)",
        f"delete from profiles where profile_id = 'p{50 + batch}'",  # merged away
        f"delete from profile_traits where {rewritten} or profile_id = 'p{50 + batch}'",
        f"insert into profile_traits values ('p{batch}', 'trait0', 'changed', $batch)",
        f"delete from profile_traits where profile_id = 'p{70 + batch}' and trait = 'trait1'",
        f"insert into profile_merges values ('p{50 + batch}', $batch)",
        "create or replace table profile_id_map as select profile_id as profile_id_ever, profile_id from profiles",
    )


def test_each_night_updates_the_older_generation_with_what_changed(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    first_night(db_path)
    first = publish(db_path, MARTS)
    assert first.generation == generation_path(db_path, 0) and sorted(first.copied) == sorted(INCREMENTAL + WHOLE)
    assert reader_path(db_path).resolve() == generation_path(db_path, 0)
    assert set(readers_differences(db_path).values()) == {0}

    assert generation_path(db_path, 1).exists(), "the other generation starts as a copy of the first"

    for batch in (2, 3, 4, 5):  # each generation takes the changes since it was written (one night, then two)
        later_night(db_path, batch)
        published = publish(db_path, MARTS)
        assert published.generation == generation_path(db_path, (batch + 1) % 2)
        assert reader_path(db_path).resolve() == published.generation
        assert sorted(published.updated) == INCREMENTAL and sorted(published.copied) == WHOLE
        assert readers_differences(db_path) == dict.fromkeys([m.name for m in MARTS], 0), batch
    assert reader_path(db_path).is_symlink()


def test_a_full_refresh_or_a_changed_schema_is_copied_whole(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    first_night(db_path)
    publish(db_path, MARTS)
    publish(db_path, MARTS)
    night(  # a full refresh: fewer merges, every row of the run's batch; a new column in profiles
        db_path,
        9,
        "create or replace table profile_merges as select 'q0' as merged_profile_id, $batch as batch_started_at",
        "create or replace table profiles as select *, 'x' as source from profiles",
    )
    published = publish(db_path, MARTS)
    assert {"profile_merges", "profiles"} <= set(published.copied)
    assert set(readers_differences(db_path).values()) == {0}


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
        for batch in (2, 3):  # the second night comes back to the generation the reader holds
            later_night(db_path, batch)
            published = publish(db_path, MARTS)
        assert published.generation == generation_path(db_path, 0)
        assert sorted(published.copied) == sorted(INCREMENTAL + WHOLE), "held by the reader: started again"
        assert generation_path(db_path, 1).exists()
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
    publish(db_path, MARTS)
    publish(db_path, MARTS[:-1])
    connection = duckdb.connect(str(reader_path(db_path)), read_only=True)
    try:
        tables = {name for (name,) in connection.execute("select table_name from information_schema.tables").fetchall()}
    finally:
        connection.close()
    assert tables == {mart.name for mart in MARTS[:-1]}


def test_a_copy_published_before_generations_is_replaced_by_the_link(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    first_night(db_path)
    reader_path(db_path).write_bytes(b"an older readers' file")
    publish(db_path, MARTS)
    assert reader_path(db_path).resolve() == generation_path(db_path, 0)
    assert set(readers_differences(db_path).values()) == {0}
