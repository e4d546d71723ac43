"""Looking up one profile in the published marts: by an identifier, a profile id or an old merged-away id.

Everything here reads the readers' copy (`identity.readers.duckdb`, see publishing), so a lookup never
waits for a night and a night never waits for it; only a warehouse that was never published is read
directly, read-only. Values are normalised as ingestion normalised them: trimmed, and lower-cased for the
types that `identifier_types.is_lowercased` marks (the mart applies the macro
idr_normalized_identifier_value to know which).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from idr.duckdb_settings import is_lock_conflict
from idr.publishing import reader_path
from idr.warehouse import WarehouseBusyError
from idr.warehouse_files import marts_path

PROFILE_PREFIX = "profile"
LOOKUP_TABLES = ("profiles", "profile_identifiers", "profile_id_map", "identifier_types", "identity_edges")


class NotFoundError(LookupError):
    """An identifier or profile id the warehouse does not hold (exit 2)."""


class LookupUsageError(ValueError):
    """An argument that is not TYPE:VALUE or profile:<id> (exit 2)."""


@dataclass(frozen=True)
class Reference:
    """What the user named: an identifier (type and value as typed) or a profile id (type `profile`)."""

    identifier_type: str
    value: str

    def __str__(self) -> str:
        return f"{self.identifier_type}:{self.value}"


@dataclass(frozen=True)
class Identifier:
    identifier_type: str
    identifier_value: str
    profile_id: str

    def __str__(self) -> str:
        return f"{self.identifier_type}:{self.identifier_value}"


def parse_reference(text: str) -> Reference:
    """`email:JaneDoe@Example.com` -> Reference('email', 'JaneDoe@Example.com'); the type is what comes
    before the first colon (values may hold colons)."""
    identifier_type, separator, value = text.partition(":")
    if not separator or not identifier_type.strip() or not value.strip():
        raise LookupUsageError(
            f"{text!r}: name an identifier as TYPE:VALUE (user_id:abc123def, email:jane@example.com) "
            f"or a profile as profile:<profile_id>"
        )
    return Reference(identifier_type.strip(), value)


def open_marts(db_path: Path, required: Sequence[str] = LOOKUP_TABLES) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the marts of the warehouse `db_path`: its readers' copy, else (never
    published) the file itself; WarehouseBusyError while a build holds a never-published file, NotFoundError
    when a `required` table is missing (a warehouse built by an earlier version)."""
    published = reader_path(db_path)
    path = published if published.exists() else marts_path(db_path)
    if not db_path.exists() or not path.exists():
        raise NotFoundError(f"{db_path}: no such warehouse (build it with `idr run`)")
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as error:
        if is_lock_conflict(str(error)):
            raise WarehouseBusyError(
                f"{db_path} is being built and has no published copy yet; try again when the run ends"
            ) from None
        raise
    present = {name for (name,) in connection.execute("select table_name from information_schema.tables").fetchall()}
    missing = [name for name in required if name not in present]
    if missing:
        connection.close()
        raise NotFoundError(
            f"{db_path}: the marts have no {', '.join(missing)}: build the warehouse (idr run or nightly) with "
            f"this version first"
        )
    return connection


def rows(connection: duckdb.DuckDBPyConnection, query: str, parameters: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """The rows of a query as dicts by column name."""
    result = connection.execute(query, list(parameters))
    names = [column[0] for column in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def find_identifier(connection: duckdb.DuckDBPyConnection, reference: Reference) -> Identifier:
    """The identifier `reference` names, normalised as ingestion does, with its profile (NotFoundError)."""
    found = rows(
        connection,
        """
        with given as (
            select
                ?::varchar as identifier_type,
                case
                    when coalesce((select is_lowercased from identifier_types where identifier_type = ?), false)
                        then lower(trim(?::varchar))
                    else trim(?::varchar)
                end as identifier_value
        )
        select identifiers.identifier_type, identifiers.identifier_value, identifiers.profile_id
        from given
        inner join profile_identifiers as identifiers
            on identifiers.identifier_type = given.identifier_type
            and identifiers.identifier_value = given.identifier_value
        """,
        [reference.identifier_type, reference.identifier_type, reference.value, reference.value],
    )
    if not found:
        raise NotFoundError(f"{reference}: not found (no identifier of that type and value)")
    return Identifier(**found[0])


def find_profile_id(connection: duckdb.DuckDBPyConnection, reference: Reference) -> str:
    """The current profile of an identifier, or of a profile id ever handed out (through profile_id_map)."""
    if reference.identifier_type != PROFILE_PREFIX:
        return find_identifier(connection, reference).profile_id
    found = rows(
        connection,
        "select profile_id from profile_id_map where profile_id_ever = ?",
        [reference.value.strip()],
    )
    if not found:
        raise NotFoundError(f"{reference}: not found (no profile has had that id)")
    return str(found[0]["profile_id"])


@dataclass
class Profile:
    """One profile as `idr profile` shows it."""

    profile_id: str
    summary: dict[str, Any]
    traits: list[dict[str, Any]]
    identifiers: list[dict[str, Any]]
    events: list[dict[str, Any]]
    merges: list[dict[str, Any]]
    asked_for: str


def load_profile(connection: duckdb.DuckDBPyConnection, reference: Reference, events: int = 10) -> Profile:
    """Traits, identifiers (with first and last seen), the latest `events` events and the merges of the
    profile `reference` names."""
    profile_id = find_profile_id(connection, reference)
    summary = rows(
        connection,
        "select * exclude (traits, batch_started_at) from profiles where profile_id = ?",
        [profile_id],
    )
    traits = rows(
        connection,
        "select trait, value, updated_at, trait_source, updated_by_message_id "
        "from profile_traits where profile_id = ? order by trait",
        [profile_id],
    )
    identifiers = rows(
        connection,
        "select identifier_type, identifier_value, identifier_priority, first_seen_at, last_seen_at, event_count "
        "from profile_identifiers where profile_id = ? "
        "order by identifier_priority, first_seen_at, identifier_type, identifier_value",
        [profile_id],
    )
    latest = rows(
        connection,
        "select timeline_position, occurred_at, event_type, event_name, message_id, properties, app_name, "
        "device_id, assigned_by_identifier_type, assigned_by_identifier_value, assignment_reason "
        "from profile_events where profile_id = ? order by timeline_position desc limit ?",
        [profile_id, events],
    )
    merges = rows(
        connection,
        "select merged_profile_id, profile_id, merged_by_identifier_type, merged_by_identifier_value, merged_at "
        "from profile_merges where profile_id = ? or merged_profile_id = ? order by merged_at, merged_profile_id",
        [profile_id, profile_id],
    )
    return Profile(profile_id, summary[0] if summary else {}, traits, identifiers, latest, merges, str(reference))


def profile_api_document(profile: Profile) -> dict[str, Any]:
    """The profile in the shapes of Segment's Profile API responses (`/traits`, `/external_ids`,
    `/events`, `/links`), under one document: code written against that API reads the same fields."""
    return {
        "segment_id": profile.profile_id,
        "traits": {"traits": {trait["trait"]: trait["value"] for trait in profile.traits}, "cursor": _end()},
        "external_ids": {
            "data": [
                {
                    "id": identifier["identifier_value"],
                    "type": identifier["identifier_type"],
                    "created_at": _iso(identifier["first_seen_at"]),
                    "last_seen_at": _iso(identifier["last_seen_at"]),
                    "encoding": "none",
                }
                for identifier in profile.identifiers
            ],
            "cursor": _end(),
        },
        "events": {
            "data": [
                {
                    "type": event["event_type"],
                    "event": event["event_name"],
                    "message_id": event["message_id"],
                    "timestamp": _iso(event["occurred_at"]),
                    "properties": _json_or_text(event["properties"]),
                }
                for event in profile.events
            ],
            "cursor": _end(),
        },
        "links": {
            "data": [
                {
                    "type": "merged_profile",
                    "id": merge["merged_profile_id"],
                    "into": merge["profile_id"],
                    "merged_at": _iso(merge["merged_at"]),
                }
                for merge in profile.merges
            ],
            "cursor": _end(),
        },
    }


def _end() -> dict[str, Any]:
    return {"url": None, "has_more": False, "next": None}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _json_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
