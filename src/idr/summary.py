"""The counts the driver reports from a built warehouse, on any engine: the SQL is plain, the engine
supplies a function running it (with `?` parameters) and the names of the tables there are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Query = Callable[[str, list[object]], list[tuple[Any, ...]]]  # rows as the engine's driver gives them
MARTS = {"profiles", "profile_events", "profile_identifiers", "rejected_events"}


class WarehouseMissingError(RuntimeError):
    """The warehouse has not been built yet."""


@dataclass
class WarehouseSummary:
    accepted_events: int
    rejected_events: int
    profiles: int
    identifiers: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    load_rejected_by_reason: dict[str, int] = field(default_factory=dict)


def count_marts(query: Query, tables: set[str], prefix: str, load_id: str | None = None) -> WarehouseSummary:
    """Counts from the built marts (named `<prefix><table>`); with a load_id, also what became of that
    load's rows."""
    missing = MARTS - tables
    if missing:
        raise WarehouseMissingError(f"the warehouse has no {', '.join(sorted(missing))} yet: run the build first")

    def scalar(table: str) -> int:
        return int(query(f"select count(*) from {prefix}{table}", [])[0][0])

    def by_reason(where: str, parameters: list[object]) -> dict[str, int]:
        rows = query(
            f"select rejection_reason, count(*) from {prefix}rejected_events {where} group by 1 order by 2 desc, 1",
            parameters,
        )
        return {str(reason): int(count) for reason, count in rows}

    summary = WarehouseSummary(
        accepted_events=scalar("profile_events"),
        rejected_events=scalar("rejected_events"),
        profiles=scalar("profiles"),
        identifiers=scalar("profile_identifiers"),
        rejected_by_reason=by_reason("", []),
    )
    if load_id is not None:
        summary.load_rejected_by_reason = by_reason("where load_id = ?", [load_id])
    return summary
