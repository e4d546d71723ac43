"""The JSON report a nightly run leaves behind: what it loaded, what it built, how long it took."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from idr.dbt_invoke import DbtOutcome
from idr.publishing import Publication
from idr.report import Timings
from idr.summary import WarehouseSummary
from idr.warehouse import LoadCounts


def build_report(
    *,
    run_id: str,
    warehouse: str,
    started_at: datetime,
    finished_at: datetime,
    status: str,
    error: str | None,
    load: LoadCounts | None,
    outcome: DbtOutcome | None,
    summary: WarehouseSummary | None,
    timings: Timings,
    publication: Publication | None = None,
    forget_requests: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": status,
        "error": error,
        "warehouse": warehouse,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "timings_seconds": {k: round(v, 3) for k, v in asdict(timings).items()},
        "load": asdict(load) if load else None,
        "warehouse_counts": asdict(summary) if summary else None,
        "dbt": {
            "success": outcome.success,
            "seconds": round(outcome.seconds, 3),
            "node_statuses": outcome.statuses,
            "failures": outcome.failures,
            "slowest_nodes": outcome.slowest_nodes,
        }
        if outcome
        else None,
        # the readers' copy: its link, the generation written, the marts it holds
        "published": {
            "path": str(publication.path),
            "generation": str(publication.generation),
            "copied": publication.copied,
        }
        if publication
        else None,
        # the idr forget requests this run finished (rebuilt, the file rewritten): ids only
        "forget_requests_completed": forget_requests or [],
    }


def write_report(report: dict[str, Any], reports_dir: Path) -> Path:
    """Write `<reports_dir>/<run_id>.json` (and `latest.json`), atomically."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str) + "\n"
    path = reports_dir / f"{report['run_id']}.json"
    for target in (path, reports_dir / "latest.json"):
        partial = target.with_suffix(".json.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    return path
