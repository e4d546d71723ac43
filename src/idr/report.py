"""The driver's printed summary."""

from __future__ import annotations

from dataclasses import dataclass

from idr.summary import WarehouseSummary
from idr.warehouse import LoadCounts


@dataclass
class Timings:
    load_seconds: float = 0.0
    dbt_seconds: float = 0.0
    publish_seconds: float = 0.0
    total_seconds: float = 0.0


def format_summary(db_path: str, summary: WarehouseSummary, timings: Timings, load: LoadCounts | None = None) -> str:
    lines = [f"Warehouse {db_path}"]
    if load is not None:
        lines.append(f"  loaded     {load.rows:>10,} rows from {load.files:,} file(s)")
        if load.skipped_files:
            lines.append(f"  skipped    {len(load.skipped_files):>10,} file(s) loaded before (same content)")
        if load.rows:
            rejected_now = sum(summary.load_rejected_by_reason.values())
            lines.append(f"  this load  {load.rows - rejected_now:>10,} accepted, {rejected_now:,} rejected")
            lines += _reasons(summary.load_rejected_by_reason)
    lines.append(f"  events     {summary.accepted_events:>10,} accepted, {summary.rejected_events:,} rejected in all")
    lines += _reasons(summary.rejected_by_reason)
    lines.append(f"  profiles   {summary.profiles:>10,}")
    lines.append(f"  identifiers{summary.identifiers:>10,}")
    lines.append(
        f"  time       load {timings.load_seconds:.1f}s, dbt {timings.dbt_seconds:.1f}s, "
        f"publish {timings.publish_seconds:.1f}s, total {timings.total_seconds:.1f}s"
    )
    if summary.rejected_events:
        lines.append("  rejected rows and their reasons: select * from rejected_events")
    return "\n".join(lines)


def _reasons(by_reason: dict[str, int]) -> list[str]:
    return [f"      {count:>10,}  {reason}" for reason, count in by_reason.items()]
