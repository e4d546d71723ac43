"""The marts in a file of their own: a warehouse built before (its marts in the warehouse file) has them
moved into the marts file by its next run, merge history and profile ids included."""

from __future__ import annotations

from pathlib import Path

import duckdb
from conftest import copy_warehouse, query, run_idr

from idr.warehouse_files import marts_path


def test_an_earlier_warehouse_has_its_marts_moved_by_the_next_run(tmp_path: Path, demo_db: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    copy_warehouse(demo_db, db_path)
    connection = duckdb.connect(str(db_path))
    try:  # the layout of an earlier version: every mart table in the warehouse file, no marts file
        connection.execute("attach ? as marts_file (read_only)", [str(marts_path(db_path))])
        marts = [
            str(name)
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_catalog = 'marts_file'"
            ).fetchall()
        ]
        for name in marts:
            connection.execute(f'create table main."{name}" as select * from marts_file.main."{name}"')
        connection.execute("insert into main.profile_merges (profile_id, merged_profile_id) values ('kept', 'gone')")
    finally:
        connection.close()
    marts_path(db_path).unlink()
    before = query(demo_db, "select profile_id from profiles order by 1")

    run_idr("run", "--db", db_path, "--quiet")

    assert query(db_path, "select profile_id from profiles order by 1") == before
    assert query(db_path, "select count(*) from marts.main.profile_merges where merged_profile_id = 'gone'") == [(1,)]
    assert query(
        db_path,
        "select count(*) from information_schema.tables where table_catalog = 'identity' and table_name = 'profiles'",
    ) == [(0,)]
