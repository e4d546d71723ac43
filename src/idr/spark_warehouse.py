"""The Spark warehouse of the `spark` target: the landing tables the driver writes there, loading event
files into them, and the counts it reports. All Spark SQL the driver itself runs lives here.

A load is staged in a DuckDB file by the DuckDB loader (the same reader, the same ledger rules), then
Spark appends it: the rows as one partition (`load_id`) of the landing table, then the files to the
ledger. Parquet tables have no transactions, so a load killed between the two leaves a partition the
ledger does not know: every load first drops such partitions, and their files are loaded again.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb

from idr import inputs, loading, warehouse
from idr.summary import WarehouseSummary, count_marts
from idr.warehouse import LoadCounts

LEDGER_COLUMNS = "sha256, file_path, size_bytes, row_count, load_id, loaded_at, modified_ns"
ROW_COLUMNS = "source_file, source_line, raw_text, load_error, load_error_detail, loaded_at"


class LandingTableError(RuntimeError):
    """The Spark landing table exists but was not made by the driver."""


def ensure_landing_tables(session: Any, schema: str) -> None:
    """The ledger of loaded files and the landing table of raw rows, partitioned by load_id."""
    session.sql(f"create schema if not exists `{schema}`")
    session.sql(
        f"""
        create table if not exists `{schema}`.loaded_files (
            sha256 string, file_path string, size_bytes bigint, row_count bigint, load_id string,
            loaded_at timestamp, modified_ns bigint
        ) using parquet
        """
    )
    session.sql(
        f"""
        create table if not exists `{schema}`.raw_events (
            source_file string, source_line bigint, raw_text string, load_error string,
            load_error_detail string, loaded_at timestamp, load_id string
        ) using parquet partitioned by (load_id)
        """
    )
    columns = session.catalog.listColumns(f"`{schema}`.raw_events")
    if not any(column.name == "load_id" and column.isPartition for column in columns):
        raise LandingTableError(
            f"{schema}.raw_events exists but is not partitioned by load_id, so it was not made by "
            f"idr; drop it (`drop table {schema}.raw_events`) or rename it, and load the files again"
        )


def read_inputs(session: Any, schema: str) -> tuple[str | None, bool]:
    """The Segment tables choice remembered in the warehouse (None: never given), and whether any file
    was ever loaded into it."""
    if not session.catalog.databaseExists(schema):
        return None, False
    remembered = None
    if session.catalog.tableExists(f"{schema}.{inputs.INPUTS_TABLE}"):
        rows = session.sql(f"select segment_tables from `{schema}`.{inputs.INPUTS_TABLE}").collect()
        remembered = str(rows[0][0]) if rows else None
    has_files = session.catalog.tableExists(f"{schema}.loaded_files") and bool(
        session.sql(f"select count(*) from `{schema}`.loaded_files").collect()[0][0]
    )
    return remembered, has_files


def remember_inputs(session: Any, schema: str, segment_tables: str) -> None:
    """Remember the Segment tables choice: later runs that give none use it."""
    session.sql(f"create schema if not exists `{schema}`")
    session.sql(f"drop table if exists `{schema}`.{inputs.INPUTS_TABLE}")
    session.sql(
        f"create table `{schema}`.{inputs.INPUTS_TABLE} using parquet as "
        f"select {_literal(segment_tables)} as segment_tables, current_timestamp() as chosen_at"
    )


def drop_unrecorded_loads(session: Any, schema: str) -> list[str]:
    """Drop the partitions of loads the ledger does not record (a load killed before it finished)."""
    recorded = {row[0] for row in session.sql(f"select distinct load_id from `{schema}`.loaded_files").collect()}
    dropped = []
    for (partition,) in session.sql(f"show partitions `{schema}`.raw_events").collect():
        load_id = unquote(partition.split("=", 1)[1])
        if load_id not in recorded:
            session.sql(f"alter table `{schema}`.raw_events drop if exists partition (load_id = {_literal(load_id)})")
            dropped.append(load_id)
    return dropped


def load_files(
    session: Any,
    schema: str,
    load_id: str,
    files: list[Path],
    staging_dir: Path,
    on_file: warehouse.FileLoaded | None = None,
) -> LoadCounts:
    """Append the rows of every file whose content was never loaded, then record the files in the ledger."""
    ensure_landing_tables(session, schema)
    drop_unrecorded_loads(session, schema)
    staging = staging_dir / load_id
    staging.mkdir(parents=True, exist_ok=True)
    try:
        counts = _stage(session, schema, load_id, files, staging, on_file)
        if counts.files:  # the rows first: rows the ledger does not record are dropped by the next load
            rows_file, ledger_file = staging / "rows.parquet", staging / "ledger.parquet"
            session.sql(
                f"insert into `{schema}`.raw_events partition (load_id = {_literal(load_id)}) "
                f"select {ROW_COLUMNS} from parquet.`{rows_file}`"
            )
            session.sql(f"insert into `{schema}`.loaded_files select {LEDGER_COLUMNS} from parquet.`{ledger_file}`")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def _stage(
    session: Any,
    schema: str,
    load_id: str,
    files: list[Path],
    staging: Path,
    on_file: warehouse.FileLoaded | None,
) -> LoadCounts:
    """Read the new files into a DuckDB file with the DuckDB loader, and write this load as parquet."""
    connection = duckdb.connect(str(staging / "staging.duckdb"))
    try:
        warehouse.ensure_landing_tables(connection, schema)
        ledger = [tuple(row) for row in session.sql(f"select {LEDGER_COLUMNS} from `{schema}`.loaded_files").collect()]
        if ledger:
            connection.executemany(
                f'insert into "{schema}".loaded_files ({LEDGER_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?)', ledger
            )
        counts = loading.load_files(connection, schema, load_id, files, staging, on_file)
        if counts.files:
            for table, columns, name in (
                ("raw_events", ROW_COLUMNS, "rows"),
                ("loaded_files", LEDGER_COLUMNS, "ledger"),
            ):
                target = str(staging / f"{name}.parquet").replace("'", "''")
                connection.execute(
                    f'copy (select {columns} from "{schema}".{table} where load_id = $load_id) '
                    f"to '{target}' (format parquet)",
                    {"load_id": load_id},
                )
        return counts
    finally:
        connection.close()


def summarize(session: Any, schema: str, load_id: str | None = None) -> WarehouseSummary:
    """The counts of the marts in `schema`; with a load_id, also what became of that load's rows."""
    exists = session.catalog.databaseExists(schema)
    tables = {table.name for table in session.catalog.listTables(schema)} if exists else set()

    def query(sql: str, parameters: list[object]) -> list[tuple[object, ...]]:
        return [tuple(row) for row in session.sql(sql, args=parameters or None).collect()]

    return count_marts(query, tables, f"`{schema}`.", load_id)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def export_tables(session: Any, schema: str, tables: list[str], folder: Path) -> None:
    """Write tables of `schema` as parquet, one folder `<folder>/<table>` each (to compare engines)."""
    for table in tables:
        session.table(f"`{schema}`.`{table}`").write.mode("overwrite").parquet(str(folder / table))
