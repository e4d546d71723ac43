"""Forgetting people in a DuckDB warehouse (`idr forget`): which profiles, identifiers and input rows a
request reaches, and the changes that forget them before the rebuild; see docs/privacy.md.

A request names identifiers (TYPE:VALUE, normalised as ingestion does) or profiles (profile:<id>, any id
ever handed out). It reaches:
- the profiles that hold a named identifier, or that a named id belongs to now;
- their identifiers, except those that events of other profiles also carry (a shared device stays with
  the family; a named identifier is forgotten whatever else carries it);
- their events, and every input row whose text holds one of the forgotten values (below).

Applying a request, in one transaction: the forgotten identifiers are kept only as salted hashes in
`suppressed_identifiers` (later events that carry one are rejected as `suppressed`); the landing rows
reached lose their text (an empty one) and are marked `suppressed`; the rows reached in the Segment tables of the
warehouse are deleted; the profiles reached leave int_identifiers_stitched and profile_merges (so that
the rebuild neither carries their ids over nor keeps their merges); `privacy_requests` records the request,
open until the driver has rebuilt every table and rewritten the file (`complete_requests`).

Nothing here prints, and no identifier value is written anywhere but in the statements' parameters.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from idr.lookup import PROFILE_PREFIX, LookupUsageError, NotFoundError, Reference, parse_reference
from idr.warehouse_files import MARTS_CATALOG

MARTS = f"{MARTS_CATALOG}.main"  # where the marts are (the marts file, attached by warehouse.connect)
SALT_TABLE = "suppression_salt"
SUPPRESSED_TABLE = "suppressed_identifiers"
REQUESTS_TABLE = "privacy_requests"
# The salted hash of an identifier, as macros/suppression.sql (idr_identifier_hash) computes it.
IDENTIFIER_HASH = "sha256(salt || ':' || identifier_type || ':' || identifier_value)"
# A value this long or longer is found anywhere in a line's text between characters that cannot be part
# of an identifier (so `jane@example.com` is not found in `mary.jane@example.com`, nor `user-1` in
# `user-1-anon`); a shorter one only as a whole JSON string or number (a user id `42` is not the `42`
# of `09:42`).
SUBSTRING_MATCH_LENGTH = 6
VALUE_BOUNDARY = "[^a-z0-9._@+-]"
# The models the forget needs (a warehouse built by this version).
REQUIRED_MODELS = (
    "int_events_validated",
    "int_identifiers_stitched",
    "int_events_assigned",
    "int_event_identifiers",
    "identifier_types",
    "profile_id_map",
)


class ForgetUsageError(LookupUsageError):
    """A request that names nothing, a request file that cannot be read, a warehouse that cannot forget (exit 2)."""


@dataclass
class ForgetPlan:
    """What one request reaches: the rows it removes, by table (no values, only counts)."""

    request_id: str
    requested: list[tuple[str, str]]  # the named identifiers, normalised
    profile_ids: list[str]
    rows_by_table: dict[str, int] = field(default_factory=dict)

    @property
    def profile_count(self) -> int:
        return len(self.profile_ids)

    @property
    def reaches_rows(self) -> bool:
        """Whether anything in the warehouse holds the people (else only the hashes are stored: nothing to
        rebuild, as for a request about someone whose events never arrived)."""
        return any(count for table, count in self.rows_by_table.items() if table != SUPPRESSED_TABLE)


def read_request_file(path: Path) -> list[str]:
    """The TYPE:VALUE lines of a request file (blank lines and lines starting with # skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ForgetUsageError(f"{path}: cannot read the request file ({error.__class__.__name__})") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def parse_requests(texts: Iterable[str]) -> list[Reference]:
    references = [parse_reference(text) for text in texts]
    if not references:
        raise ForgetUsageError("name at least one TYPE:VALUE or profile:<profile_id> to forget (or --from-file)")
    return references


def check_warehouse(connection: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """NotFoundError unless the warehouse was built by this version (the models the forget reads)."""
    present = {
        name
        for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
    }
    missing = [name for name in REQUIRED_MODELS if name not in present]
    if missing:
        raise NotFoundError(f"{db_path}: no {', '.join(missing)}: build the warehouse (idr run) before forgetting")


def plan(
    connection: duckdb.DuckDBPyConnection,
    references: Sequence[Reference],
    landing_schema: str,
    segment_schema: str | None,
) -> ForgetPlan:
    """What the request reaches, as temporary tables on `connection` (forget_*) and counts by table."""
    requested = _normalised(connection, [r for r in references if r.identifier_type != PROFILE_PREFIX])
    _refuse_placeholders(connection, requested)
    named_ids = [r.value.strip() for r in references if r.identifier_type == PROFILE_PREFIX]
    connection.execute(
        "create or replace temp table forget_requested (identifier_type varchar, identifier_value varchar)"
    )
    if requested:
        connection.executemany("insert into forget_requested values (?, ?)", requested)
    connection.execute("create or replace temp table forget_named_ids (profile_id varchar)")
    if named_ids:
        connection.executemany("insert into forget_named_ids values (?)", [[i] for i in named_ids])
    unknown = connection.execute(
        "select profile_id from forget_named_ids where profile_id not in (select profile_id_ever from profile_id_map)"
    ).fetchall()
    if unknown:
        raise NotFoundError(f"profile:{unknown[0][0]}: not found (no profile has had that id)")
    for statement in _PLAN_STATEMENTS:
        connection.execute(statement)
    _match_landing_rows(connection, landing_schema)
    segment_tables = _match_segment_rows(connection, segment_schema)
    profile_ids = [
        str(p) for (p,) in connection.execute("select profile_id from forget_profiles order by 1").fetchall()
    ]
    result = ForgetPlan(_new_request_id(), requested, profile_ids)
    result.rows_by_table = _counts(connection, landing_schema, segment_schema, segment_tables)
    return result


def apply(
    connection: duckdb.DuckDBPyConnection,
    forget: ForgetPlan,
    landing_schema: str,
    segment_schema: str | None,
) -> None:
    """Suppress, scrub and record the request planned on `connection`, in one transaction; a request that
    reaches no row is recorded completed (nothing to rebuild)."""
    schema = _quoted(landing_schema)
    _forget_merges(connection)
    connection.execute("begin transaction")
    try:
        ensure_tables(connection, landing_schema)
        connection.execute(
            f"insert into {schema}.{SUPPRESSED_TABLE} "
            f"select distinct identifier_type, {IDENTIFIER_HASH}, ?, current_timestamp::timestamp "
            f"from forget_identifiers cross join {schema}.{SALT_TABLE} as salts "
            f"where not exists (select 1 from {schema}.{SUPPRESSED_TABLE} as known "
            f"where known.identifier_type = forget_identifiers.identifier_type "
            f"and known.identifier_hash = {IDENTIFIER_HASH})",
            [forget.request_id],
        )
        if _table_exists(connection, landing_schema, "raw_events"):
            connection.execute(
                f"update {schema}.raw_events as landing_rows set raw_text = '', load_error = 'suppressed', "
                "load_error_detail = 'removed by idr forget' "
                "from forget_landing_rows as reached where landing_rows.rowid = reached.landing_rowid"
            )
        for table in _segment_tables(connection, segment_schema):
            connection.execute(
                f"delete from {_quoted(segment_schema or '')}.{_quoted(table)} where rowid in "
                "(select row_id from forget_segment_rows where table_name = ?)",
                [table],
            )
        connection.execute(
            "delete from main.int_identifiers_stitched where profile_id in (select * from forget_profiles)"
        )
        connection.execute(
            f"insert into {schema}.{REQUESTS_TABLE} "
            "select ?, coalesce(string_agg(distinct hashes.identifier_hash, ',' order by hashes.identifier_hash), ''), "
            f"current_timestamp::timestamp, {'null' if forget.reaches_rows else 'current_timestamp::timestamp'}, ?, ? "
            f"from (select {IDENTIFIER_HASH} as identifier_hash from forget_identifiers "
            f"cross join {schema}.{SALT_TABLE}) as hashes",
            [forget.request_id, forget.profile_count, json.dumps(forget.rows_by_table, sort_keys=True)],
        )
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise


def _forget_merges(connection: duckdb.DuckDBPyConnection) -> None:
    """The merges of the profiles reached leave profile_merges, and the forgotten identifiers leave the
    merges of others: in the marts file, in a transaction of its own before the warehouse's (DuckDB writes
    one file per transaction). A forget killed between the two has removed merges and recorded nothing: run
    again, it finds the same people."""
    if not _table_exists(connection, "main", "profile_merges", MARTS_CATALOG):
        return
    connection.execute("begin transaction")
    try:
        connection.execute(
            f"delete from {MARTS}.profile_merges where profile_id in (select * from forget_profile_ids_ever) "
            "or merged_profile_id in (select * from forget_profile_ids_ever)"
        )
        connection.execute(
            f"update {MARTS}.profile_merges set merged_by_identifier_type = null, merged_by_identifier_value = null "
            "where exists (select 1 from forget_identifiers as forgotten "
            "where forgotten.identifier_type = profile_merges.merged_by_identifier_type "
            "and forgotten.identifier_value = profile_merges.merged_by_identifier_value)"
        )
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise


def ensure_tables(connection: duckdb.DuckDBPyConnection, landing_schema: str) -> None:
    """The salt (made once per warehouse), the suppressed hashes and the audit trail."""
    schema = _quoted(landing_schema)
    connection.execute(f"create schema if not exists {schema}")
    connection.execute(f"create table if not exists {schema}.{SALT_TABLE} (salt varchar not null)")
    if not connection.execute(f"select count(*) from {schema}.{SALT_TABLE}").fetchone()[0]:  # type: ignore[index]
        connection.execute(f"insert into {schema}.{SALT_TABLE} values (?)", [secrets.token_hex(32)])
    connection.execute(
        f"create table if not exists {schema}.{SUPPRESSED_TABLE} (identifier_type varchar not null, "
        "identifier_hash varchar not null, request_id varchar not null, suppressed_at timestamp not null)"
    )
    connection.execute(
        f"create table if not exists {schema}.{REQUESTS_TABLE} (request_id varchar not null, "
        "identifier_hashes varchar not null, requested_at timestamp not null, completed_at timestamp, "
        "profiles_removed bigint not null, rows_removed json not null)"
    )


@dataclass(frozen=True)
class ForgetState:
    """What a build needs to know before it starts: the requests whose rebuild has not finished yet (the
    build finishes them), and whether any identifier is suppressed (then a build that suppresses new rows
    rewrites the file), with the rows validated so far (up to their latest batch_started_at)."""

    pending_requests: list[str]
    is_suppressing: bool
    validated_through: datetime | None = None


def read_state(connection: duckdb.DuckDBPyConnection, landing_schema: str) -> ForgetState:
    pending: list[str] = []
    if _table_exists(connection, landing_schema, REQUESTS_TABLE):
        found = connection.execute(
            f"select request_id from {_quoted(landing_schema)}.{REQUESTS_TABLE} where completed_at is null "
            "order by requested_at"
        ).fetchall()
        pending = [str(request_id) for (request_id,) in found]
    is_suppressing = _table_exists(connection, landing_schema, SUPPRESSED_TABLE) and bool(
        _count(connection, f"select count(*) from (select 1 from {_quoted(landing_schema)}.{SUPPRESSED_TABLE} limit 1)")
    )
    validated_through = None
    if is_suppressing and _table_exists(connection, "main", "int_events_validated"):
        row = connection.execute("select max(batch_started_at) from main.int_events_validated").fetchone()
        validated_through = row[0] if row else None
    return ForgetState(pending, is_suppressing, validated_through)


def complete_requests(connection: duckdb.DuckDBPyConnection, landing_schema: str, request_ids: Sequence[str]) -> None:
    if request_ids:
        connection.execute(
            f"update {_quoted(landing_schema)}.{REQUESTS_TABLE} set completed_at = current_timestamp::timestamp "
            "where list_contains(?, request_id)",
            [list(request_ids)],
        )


def suppressed_since(connection: duckdb.DuckDBPyConnection, validated_through: datetime | None) -> bool:
    """Whether int_events_validated rejected any row written after `validated_through` (all rows: None) as
    `suppressed` (DuckDB skips the older blocks by their min-max statistics)."""
    if not _table_exists(connection, "main", "int_events_validated"):
        return False
    return bool(
        _count(
            connection,
            "select count(*) from main.int_events_validated where rejection_reason = 'suppressed' "
            "and (?::timestamp is null or batch_started_at > ?::timestamp)",
            [validated_through, validated_through],
        )
    )


def _normalised(connection: duckdb.DuckDBPyConnection, references: Sequence[Reference]) -> list[tuple[str, str]]:
    """Each identifier as ingestion writes it: the type lower-cased and trimmed, the value trimmed and
    lower-cased for the types identifier_types marks."""
    lowercased = {
        str(name)
        for (name,) in connection.execute("select identifier_type from identifier_types where is_lowercased").fetchall()
    }
    found = []
    for reference in references:
        identifier_type = reference.identifier_type.strip().lower()
        value = reference.value.strip()
        found.append((identifier_type, value.lower() if identifier_type in lowercased else value))
    return sorted(set(found))


def _refuse_placeholders(connection: duckdb.DuckDBPyConnection, requested: list[tuple[str, str]]) -> None:
    """ForgetUsageError for a named value the warehouse keeps out as a placeholder (blocked_identifier_values):
    it names nobody, and its text is in many people's rows."""
    if not requested or not _table_exists(connection, "main", "blocked_identifier_values"):
        return
    found = connection.execute(
        "select identifier_type, identifier_value from main.blocked_identifier_values "
        "where list_contains(?, identifier_type || ':' || identifier_value) order by all limit 1",
        [[f"{identifier_type}:{value}" for identifier_type, value in requested]],
    ).fetchall()
    if found:
        identifier_type, value = found[0]
        raise ForgetUsageError(
            f"{identifier_type}:{value} is a blocked placeholder value (blocked_identifier_values): it names nobody"
        )


def _match_landing_rows(connection: duckdb.DuckDBPyConnection, landing_schema: str) -> None:
    """forget_landing_rows: the landing rows of the events reached and every landing row whose text holds
    a forgotten value (rows suppressed before aside)."""
    connection.execute("create or replace temp table forget_landing_rows (landing_rowid bigint)")
    if not _table_exists(connection, landing_schema, "raw_events"):
        return
    schema = _quoted(landing_schema)
    holds_value, parameters = _text_condition(connection, "landing_rows.raw_text")
    connection.execute(
        f"""
        insert into forget_landing_rows
        select landing_rows.rowid
        from {schema}.raw_events as landing_rows
        where landing_rows.load_error is distinct from 'suppressed' and (
            (landing_rows.load_id, landing_rows.source_file, landing_rows.source_line) in (
                select (load_id, source_name, source_row) from forget_validated_rows where event_source = 'landing'
            )
            or {holds_value}
        )
        """,
        parameters,
    )


def _match_segment_rows(connection: duckdb.DuckDBPyConnection, segment_schema: str | None) -> list[str]:
    """forget_segment_rows: the rows of the warehouse's Segment tables of the events reached (by table and
    message id) and those whose text holds a forgotten value; the tables looked at."""
    connection.execute("create or replace temp table forget_segment_rows (table_name varchar, row_id bigint)")
    tables = _segment_tables(connection, segment_schema)
    for table in tables:
        relation = f"{_quoted(segment_schema or '')}.{_quoted(table)}"
        columns = {str(c) for (c,) in connection.execute(f"select column_name from (describe {relation})").fetchall()}
        by_message = (
            "segment_rows.id::varchar in (select message_id from forget_validated_rows where source_name = ?)"
            if "id" in columns
            else "false"
        )
        holds_value, parameters = _text_condition(connection, "segment_rows::varchar")
        connection.execute(
            f"insert into forget_segment_rows select ?, segment_rows.rowid from {relation} as segment_rows "
            f"where {by_message} or {holds_value}",
            [table, *([table] if "id" in columns else []), *parameters],
        )
    return tables


def _text_condition(connection: duckdb.DuckDBPyConnection, text_expr: str) -> tuple[str, list[object]]:
    """A SQL condition, and its parameters: `text_expr` holds one of the forgotten values, case-insensitively
    — a long value between VALUE_BOUNDARY characters, a short one only as a whole JSON string or number, or
    as a column value of a Segment row's text (`key: value,`). A plain `contains` of each value first, then
    one regular expression of them all (both constants: DuckDB compiles the expression once)."""
    values = sorted(
        {str(v).lower() for (v,) in connection.execute("select identifier_value from forget_identifiers").fetchall()}
    )
    if not values:
        return "false", []
    alternatives = []
    for value in values:
        escaped = re.escape(value)
        if len(value) >= SUBSTRING_MATCH_LENGTH:
            alternatives.append(f"(^|{VALUE_BOUNDARY}){escaped}($|{VALUE_BOUNDARY})")
        else:
            alternatives.append(f'"{escaped}"|[:\\[,]\\s*{escaped}\\s*[,}}\\]]')
    lowered = f"lower({text_expr})"
    prefilter = " or ".join(f"contains({lowered}, ?)" for _ in values)
    return f"(({prefilter}) and regexp_matches({lowered}, ?))", [*values, "|".join(alternatives)]


_PLAN_STATEMENTS = [
    # the profiles reached: those holding a named identifier, and those a named profile id belongs to now
    f"""
    create or replace temp table forget_profiles as
    select distinct stitched.profile_id
    from main.int_identifiers_stitched as stitched
    inner join forget_requested as requested
        on stitched.identifier_type = requested.identifier_type
        and stitched.identifier_value = requested.identifier_value
    union
    select id_map.profile_id
    from {MARTS}.profile_id_map as id_map
    inner join forget_named_ids as named on id_map.profile_id_ever = named.profile_id
    """,
    # every id these profiles ever had
    f"""
    create or replace temp table forget_profile_ids_ever as
    select profile_id_ever as profile_id from {MARTS}.profile_id_map
    where profile_id in (select profile_id from forget_profiles)
    union
    select profile_id from forget_profiles
    """,
    "create or replace temp table forget_events as "
    "select event_key from main.int_events_assigned where profile_id in (select profile_id from forget_profiles)",
    # the identifiers forgotten: the named ones, and those of the profiles reached that no event of another
    # profile carries
    """
    create or replace temp table forget_identifiers as
    select stitched.identifier_type, stitched.identifier_value
    from main.int_identifiers_stitched as stitched
    where
        stitched.profile_id in (select profile_id from forget_profiles)
        and not exists (
            select 1
            from main.int_event_identifiers as carried
            inner join main.int_events_assigned as assigned on carried.event_key = assigned.event_key
            where
                carried.identifier_key = stitched.identifier_key
                and assigned.profile_id not in (select profile_id from forget_profiles)
        )
    union
    select identifier_type, identifier_value from forget_requested
    """,
    """
    create or replace temp table forget_validated_rows as
    select event_source, load_id, source_name, source_row, message_id
    from main.int_events_validated
    where event_key in (select event_key from forget_events)
    """,
]


def _counts(
    connection: duckdb.DuckDBPyConnection, landing_schema: str, segment_schema: str | None, segment_tables: list[str]
) -> dict[str, int]:
    """Rows removed by table: the inputs scrubbed, and the rows of the marts that belong to the profiles reached."""
    by_profile = {
        "profiles": f"{MARTS}.profiles",
        "profile_identifiers": f"{MARTS}.profile_identifiers",
        "profile_traits": f"{MARTS}.profile_traits",
        "profile_events": f"{MARTS}.profile_events",
        "profile_id_map": f"{MARTS}.profile_id_map",
    }
    counts: dict[str, int] = {}
    for name, relation in by_profile.items():
        if _table_exists(connection, "main", name, MARTS_CATALOG):
            counts[name] = _count(
                connection,
                f"select count(*) from {relation} where profile_id in (select profile_id from forget_profiles)",
            )
    if _table_exists(connection, "main", "profile_merges", MARTS_CATALOG):
        counts["profile_merges"] = _count(
            connection,
            f"select count(*) from {MARTS}.profile_merges where profile_id in (select * from forget_profile_ids_ever) "
            "or merged_profile_id in (select * from forget_profile_ids_ever)",
        )
    counts["suppressed_identifiers"] = _count(connection, "select count(*) from forget_identifiers")
    counts[f"{landing_schema}.raw_events"] = _count(connection, "select count(*) from forget_landing_rows")
    for table in segment_tables:
        counts[f"{segment_schema}.{table}"] = _count(
            connection, "select count(*) from forget_segment_rows where table_name = ?", [table]
        )
    return counts


def _segment_tables(connection: duckdb.DuckDBPyConnection, segment_schema: str | None) -> list[str]:
    if segment_schema is None:
        return []
    found = connection.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE' "
        "order by 1",
        [segment_schema],
    ).fetchall()
    return [str(name) for (name,) in found]


def _table_exists(connection: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None) -> bool:
    """Whether `schema`.`table` exists (in `catalog`; None: in any)."""
    found = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ? "
        "and (? is null or table_catalog = ?)",
        [schema, table, catalog, catalog],
    ).fetchone()
    return bool(found and found[0])


def _count(connection: duckdb.DuckDBPyConnection, query: str, parameters: Sequence[object] = ()) -> int:
    found = connection.execute(query, list(parameters)).fetchone()
    return int(found[0]) if found else 0


def _new_request_id() -> str:
    return "forget-" + uuid.uuid4().hex[:12]


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
