"""The copy of the marts that readers open: BI tools, notebooks, `duckdb` in Python.

DuckDB admits one writing process per file and no writer while any other process has it open, so
readers of the warehouse file itself would stop a night (and a night would lock them out for the
whole build). After every successful build the driver therefore copies the marts into a file of
their own, `<warehouse>.readers.duckdb` beside the warehouse, written under a temporary name and
renamed into place: a reader holding the previous copy open keeps reading it (the rename does not
touch an open file) and sees the new night when it connects again, and no reader ever waits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from idrlib.duckdb_settings import duckdb_config

READER_SUFFIX = ".readers.duckdb"


def reader_path(db_path: Path) -> Path:
    """Where the readers' copy of `db_path`'s marts is published: `identity.duckdb` ->
    `identity.readers.duckdb`."""
    return db_path.with_name(db_path.stem + READER_SUFFIX)


def mart_names(manifest_path: Path) -> list[str]:
    """The enabled models of `models/marts`, from dbt's manifest (the build just wrote it)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("enabled", True)
        and node["original_file_path"].startswith("models/marts/")
    )


def publish(db_path: Path, tables: list[str]) -> Path:
    """Copy `tables` (views become tables) of the warehouse's main schema into a new file, then rename
    it over the readers' copy. The warehouse must be closed for writing (it is attached read-only)."""
    target = reader_path(db_path)
    partial = target.with_name(f".{target.name}.partial")
    for leftover in (partial, partial.with_name(partial.name + ".wal")):
        leftover.unlink(missing_ok=True)
    connection = duckdb.connect(str(partial), config=duckdb_config(db_path))
    try:
        connection.execute("attach ? as warehouse (read_only)", [str(db_path)])
        for table in tables:
            name = table.replace('"', '""')
            connection.execute(f'create table main."{name}" as select * from warehouse.main."{name}"')
        connection.execute("detach warehouse")
        connection.execute("checkpoint")
    finally:
        connection.close()
    os.replace(partial, target)
    return target
