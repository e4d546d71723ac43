"""The copy of the marts that readers open: BI tools, notebooks, `duckdb` in Python.

DuckDB admits one writing process per file and no writer while any other process has it open, so
readers of the warehouse file itself would stop a night (and a night would lock them out for the
whole build). The driver therefore publishes the marts, after every successful build, into files of
their own: two generations beside the warehouse (`.identity.readers.0.duckdb`, `.identity.readers.1.duckdb`)
and `identity.readers.duckdb`, a symbolic link to the newer one, which is what readers open.

A night writes the older generation (the one readers are not sent to) and then turns the link to it
in one rename. A reader holding the newer generation open keeps reading it and sees the new night when
it connects again; no reader ever waits. The older generation is brought up to date with what changed
since it was published (see `_update`), so a night's publishing costs about what the night changed,
not the size of the marts. Only when that generation cannot be used (none yet, a reader still holds it
from two nights ago, a changed schema, or counts that disagree) are its tables copied in full; the
first publishing also copies the new generation's file to the other one, so the second night updates.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from idr.duckdb_settings import connect_config, is_lock_conflict

READER_SUFFIX = ".readers.duckdb"
GENERATIONS = (0, 1)
BATCH_COLUMN = "batch_started_at"  # the run that last wrote a row, in every incremental mart


@dataclass(frozen=True)
class Mart:
    """A model of `models/marts`, as publishing needs it: whether the warehouse rewrites it whole each
    run (a view or a table) or only its changed rows (incremental), and the key of those rows (none for
    an append-only model)."""

    name: str
    is_incremental: bool = False
    unique_key: tuple[str, ...] = ()


@dataclass
class Publication:
    """What one publishing did: the link readers open, and which tables were updated with their
    changes or copied whole."""

    path: Path
    generation: Path
    updated: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)


def reader_path(db_path: Path) -> Path:
    """Where readers open `db_path`'s marts: `identity.duckdb` -> `identity.readers.duckdb`."""
    return db_path.with_name(db_path.stem + READER_SUFFIX)


def generation_path(db_path: Path, generation: int) -> Path:
    """One of the two published generations: `identity.duckdb` -> `.identity.readers.0.duckdb`."""
    return db_path.with_name(f".{db_path.stem}.readers.{generation}.duckdb")


def marts(manifest_path: Path) -> list[Mart]:
    """The enabled models of `models/marts`, from a manifest.json dbt wrote."""
    return marts_of_nodes(json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"].values())


def marts_of_nodes(nodes: Iterable[Mapping[str, Any]]) -> list[Mart]:
    """The enabled models of `models/marts` among dbt's nodes, as manifest.json holds them."""
    found = []
    for node in nodes:
        config = node["config"]
        if node["resource_type"] != "model" or not config.get("enabled", True):
            continue
        if not node["original_file_path"].startswith("models/marts/"):
            continue
        key = config.get("unique_key") or ()
        is_incremental = config.get("materialized") == "incremental"
        found.append(Mart(node["name"], is_incremental, (key,) if isinstance(key, str) else tuple(key)))
    return sorted(found, key=lambda mart: mart.name)


def publish(db_path: Path, tables: Sequence[Mart], fresh: bool = False) -> Publication:
    """Bring the older generation up to date with the warehouse's marts, then point the readers' link at
    it. The warehouse must be closed for writing (it is attached read-only). With `fresh` (after a forget),
    both generations are first removed and written again from nothing, so that neither keeps a byte of
    what the warehouse no longer holds (a reader that has one open keeps reading it until it reconnects)."""
    link = reader_path(db_path)
    if fresh:
        for generation in GENERATIONS:
            path = generation_path(db_path, generation)
            for stale in (path, path.with_name(path.name + ".wal")):
                stale.unlink(missing_ok=True)
    generation = _older_generation(db_path, link)
    target = generation_path(db_path, generation)
    connection, is_new = _open_generation(target, db_path)
    publication = Publication(link, target)
    try:
        connection.execute("attach ? as warehouse (read_only)", [str(db_path)])
        connection.execute("begin")
        for mart in tables:
            if _update(connection, mart):
                publication.updated.append(mart.name)
            else:
                _copy(connection, mart.name)
                publication.copied.append(mart.name)
        _drop_others(connection, {mart.name for mart in tables})
        connection.execute("commit")
        connection.execute("detach warehouse")
        connection.execute("checkpoint")
    finally:
        connection.close()
    other = generation_path(db_path, GENERATIONS[1 - generation])
    if is_new and not other.exists():
        # the first publishing (or the first after a lost generation): the other generation starts as a
        # copy of this one's bytes, so that the next night already finds a generation to update
        shutil.copyfile(target, other)
    point_link(link, target)
    return publication


def _older_generation(db_path: Path, link: Path) -> int:
    """The generation readers are not sent to: not the one the link names (the first when there is no link)."""
    current = os.readlink(link) if link.is_symlink() else None
    return next(g for g in GENERATIONS if generation_path(db_path, g).name != current)


def _open_generation(target: Path, db_path: Path) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """The generation opened for writing, and whether it is new. When a reader still holds it (from before
    the last night) or it is not a DuckDB file, it is removed and started again: a reader keeps the file
    it opened, and every table is then copied whole."""
    config = connect_config(db_path)
    if target.exists():
        try:
            return duckdb.connect(str(target), config=config), False
        except duckdb.Error as error:
            if not is_lock_conflict(str(error)) and "database file" not in str(error):
                raise
    for path in (target, target.with_name(target.name + ".wal")):
        path.unlink(missing_ok=True)
    return duckdb.connect(str(target), config=config), True


def _copy(connection: duckdb.DuckDBPyConnection, table: str) -> None:
    name = _quoted(table)
    connection.execute(f"create or replace table main.{name} as select * from warehouse.main.{name}")


def _update(connection: duckdb.DuckDBPyConnection, mart: Mart) -> bool:
    """Bring the generation's copy of an incremental mart up to date with the rows the warehouse wrote since
    it was published; False (nothing changed yet) when it has to be copied whole instead.

    The copy holds the warehouse's table as of its newest `batch_started_at`, and a warehouse row written no
    later than that is a row the copy holds. So: remove the copy's rows whose key was written again, add
    the rows written since, and, while the counts disagree, remove the copy's rows the warehouse no longer
    has: first by key (profiles merged away), then by every column (a trait of a profile left unchanged).
    An append-only mart only gains rows. A copy whose count still disagrees is copied whole.
    """
    name = _quoted(mart.name)
    if not mart.is_incremental or not _same_columns(connection, mart.name):
        return False
    published, newest = connection.execute(
        f"select (select max({BATCH_COLUMN}) from main.{name}), (select max({BATCH_COLUMN}) from warehouse.main.{name})"
    ).fetchone() or (None, None)
    if published is None or newest is None or newest < published:
        return False  # an empty copy or warehouse table, or a warehouse older than its copy
    since = {"published": published}
    written = f"(select * from warehouse.main.{name} where {BATCH_COLUMN} > $published)"
    if mart.unique_key:
        connection.execute(
            f"delete from main.{name} as kept using {written} as written "
            f"where {_matching('kept', 'written', mart.unique_key)}",
            since,
        )
    elif _count(connection, f"main.{name}") != _count(connection, f"warehouse.main.{name}", since):
        return False  # an append-only mart that lost rows (a full refresh)
    connection.execute(f"insert into main.{name} by name select * from {written}", since)
    expected = _count(connection, f"warehouse.main.{name}")
    every_column = [column for column, _ in _columns(connection, "warehouse", mart.name)]
    for columns in (mart.unique_key, every_column) if mart.unique_key else ():
        if _count(connection, f"main.{name}") == expected:
            break
        connection.execute(
            f"delete from main.{name} as kept where not exists "
            f"(select 1 from warehouse.main.{name} as current where {_matching('kept', 'current', columns)})"
        )
    return _count(connection, f"main.{name}") == expected


def _matching(left: str, right: str, columns: Sequence[str]) -> str:
    return " and ".join(f"{left}.{_quoted(c)} is not distinct from {right}.{_quoted(c)}" for c in columns)


def _columns(connection: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple[str, str]]:
    """The columns of `database`.main.`table`, in order, with their types (none: no such table)."""
    rows = connection.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = 'main' and table_name = ? order by column_index",
        [database, table],
    ).fetchall()
    return [(str(column), str(data_type)) for column, data_type in rows]


def _drop_others(connection: duckdb.DuckDBPyConnection, names: set[str]) -> None:
    """Drop what the generation holds that is no longer a mart (a model removed or disabled)."""
    rows = connection.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_catalog = current_database() and table_schema = 'main'"
    ).fetchall()
    for table, kind in rows:
        if table not in names:
            connection.execute(f"drop {'view' if kind == 'VIEW' else 'table'} main.{_quoted(table)}")


def _same_columns(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the generation's copy of `table` exists with the warehouse's columns (names, types, order)
    and a `batch_started_at`."""
    (own_database,) = connection.execute("select current_database()").fetchone() or ("",)
    current = _columns(connection, "warehouse", table)
    published = _columns(connection, str(own_database), table)
    return bool(current) and published == current and any(column == BATCH_COLUMN for column, _ in current)


def _count(connection: duckdb.DuckDBPyConnection, relation: str, since: dict[str, object] | None = None) -> int:
    """The rows of `relation`; with `since`, only those written no later than the published batch."""
    query = f"select count(*) from {relation}" + (f" where {BATCH_COLUMN} <= $published" if since else "")
    (count,) = connection.execute(query, since or {}).fetchone() or (0,)
    return int(count)


def point_link(link: Path, target: Path) -> None:
    """Turn the readers' link to `target` in one rename (a link beside it, renamed over the old one)."""
    pending = link.with_name(f".{link.name}.link")
    pending.unlink(missing_ok=True)
    pending.symlink_to(target.name)
    os.replace(pending, link)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
