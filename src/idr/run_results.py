"""Reading dbt's run_results.json: how long each node took."""

from __future__ import annotations

import json
from pathlib import Path


def node_seconds(run_results: Path) -> dict[str, float]:
    """Execution time of every node of one dbt invocation, by node name (e.g. `profile_events`)."""
    results = json.loads(run_results.read_text())["results"]
    return {result["unique_id"].split(".", 2)[2]: round(result["execution_time"], 2) for result in results}
