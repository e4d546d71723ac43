"""Rewriting a DuckDB file with only what it holds now.

DuckDB reuses the blocks that deleted or replaced rows leave, but does not clear them: bytes of rows
that are gone can stay in the file until a block is written again. After a forget the driver therefore
copies the whole database (DuckDB's own COPY FROM DATABASE: schemas, tables, views, macros, sequences)
into a new file beside it and renames that file over the old one; the old file's WAL goes with it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from idr.duckdb_settings import connect_config


def rewrite(db_path: Path) -> None:
    """Replace `db_path` by a copy of its current contents (the caller holds the run lock, and no process
    has the file open)."""
    work = db_path.with_name(f".{db_path.stem}.rewrite")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        # the copy has the warehouse's file name, so that its catalog is named as the warehouse's (views
        # that name their catalog stay valid)
        copy = work / db_path.name
        connection = duckdb.connect(str(copy), config=connect_config(db_path))
        try:
            connection.execute("attach ? as forgetting_source (read_only)", [str(db_path)])
            (catalog,) = connection.execute("select current_database()").fetchone() or ("",)
            connection.execute(f'copy from database forgetting_source to "{catalog}"')
            connection.execute("detach forgetting_source")
            connection.execute("checkpoint")
        finally:
            connection.close()
        fsync(copy)
        os.replace(copy, db_path)
        db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)
        fsync(db_path.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fsync(path: Path) -> None:
    """Write the file (or folder) to disk before it is renamed or relied on."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
