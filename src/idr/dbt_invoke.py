"""Running dbt in-process through dbtRunner, against one warehouse file."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner

from idr.messages import first_line
from idr.progress import BuildProgress

PROJECT_DIR = Path(__file__).resolve().parents[2]
FAILED_STATUSES = {"error", "fail", "runtime error"}
# The folders and files dbt parses (dbt_project.yml's paths); a change to any of them parses again.
PARSED_PATHS = ("models", "macros", "seeds", "tests", "analyses", "dbt_project.yml", "profiles.yml")
# The manifests parsed in this process, by what they were parsed from (see manifest_key).
_MANIFESTS: dict[tuple[object, ...], Any] = {}


@dataclass
class DbtOutcome:
    success: bool
    seconds: float
    failures: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    slowest_nodes: list[tuple[str, float]] = field(default_factory=list)
    manifest: Any = None  # the parsed project dbt ran with (None: dbt parsed it itself)

    @property
    def reason(self) -> str:
        """One line saying why the invocation failed."""
        if not self.failures:
            return "dbt failed"
        more = f" (and {len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        return self.failures[0] + more


def run_dbt(
    command: list[str],
    target: str,
    environment: dict[str, str],
    dbt_vars: dict[str, Any] | None = None,
    quiet: bool = False,
    log_path: Path | None = None,
    progress: BuildProgress | None = None,
) -> DbtOutcome:
    """Invoke `dbt <command>` on the project's `target`, with `environment` (what profiles.yml reads).

    With `progress` on a terminal (and not `quiet`), dbt's nodes are shown on its line instead of
    dbt's own line per node; dbt still prints its warnings and errors, above that line."""
    os.environ.update(environment)
    common = ["--target", target, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if dbt_vars:
        common += ["--vars", json.dumps(dbt_vars)]
    if log_path is not None:
        common += ["--log-path", str(log_path)]
    arguments = [*command, *common]
    if quiet:
        arguments.insert(0, "--quiet")
    shown = progress if progress is not None and progress.active and not quiet else None
    callbacks = []
    if shown is not None:
        # the progress line stands for dbt's line per node: its console keeps warnings and errors,
        # its log file stays as detailed as ever
        file_level = os.environ.get("DBT_LOG_LEVEL_FILE", "debug")
        arguments = ["--log-level", "warn", "--log-level-file", file_level, *arguments]
        callbacks.append(progress_callback(shown))
    started = time.monotonic()
    manifest = None
    try:
        with ExitStack() as stack:
            if shown is not None:
                stack.enter_context(shown)
                stack.enter_context(redirect_stdout(shown.above(sys.stdout)))
            manifest = _parsed_manifest(target, common, dbt_vars)
            result = dbtRunner(manifest=manifest, callbacks=callbacks).invoke(arguments)
    finally:
        if target == "duckdb":
            close_warehouse()
    seconds = time.monotonic() - started
    node_results = list(getattr(result.result, "results", None) or [])
    failures = _failures(result, node_results)
    return DbtOutcome(
        success=bool(result.success) and not failures,
        seconds=seconds,
        failures=failures,
        statuses=dict(Counter(str(r.status).lower() for r in node_results)),
        manifest=manifest,
        slowest_nodes=[
            (r.node.unique_id, round(float(r.execution_time), 3))
            for r in sorted(node_results, key=lambda r: -float(r.execution_time))[:10]
        ],
    )


def _parsed_manifest(target: str, common: list[str], dbt_vars: dict[str, Any] | None) -> Any:
    """The project as dbt parses it for `target` and these vars (`common`: the options of every
    invocation), parsed once per process.

    dbt's own partial parsing starts again from scratch whenever the profile changes, and the warehouse
    file's path is in the profile: every run on another file (every test, every run of a process that
    builds several warehouses) would parse the whole project again, about 3 s. The manifest does not
    depend on the path, only on the database name dbt derives from it (the file's stem), the schema,
    the vars and the project's files, which make the key. None when parsing fails: the command
    itself then parses, and reports the error as dbt does."""
    key = manifest_key(target, dbt_vars)
    if key not in _MANIFESTS:
        parsed = dbtRunner().invoke(["--quiet", "parse", *common])
        if not parsed.success or parsed.result is None:
            return None
        for older in [other for other in _MANIFESTS if other[-1] != key[-1]]:
            del _MANIFESTS[older]  # parsed from files that have changed since
        _MANIFESTS[key] = parsed.result
    return _MANIFESTS[key]


def manifest_key(target: str, dbt_vars: dict[str, Any] | None) -> tuple[object, ...]:
    """What a parsed manifest depends on: the target, the database name (the DuckDB file's stem), the
    Spark schema, the vars, and the size and time of every file dbt parses."""
    database = Path(os.environ.get("IDR_DB_PATH", "warehouse/identity.duckdb")).stem
    schema = os.environ.get("IDR_SPARK_SCHEMA", "identity")
    return (target, database, schema, json.dumps(dbt_vars or {}, sort_keys=True), tuple(_project_files()))


def _project_files() -> Iterator[tuple[str, int, int]]:
    for name in PARSED_PATHS:
        root = PROJECT_DIR / name
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and "__pycache__" not in path.parts:  # Python writes these as it imports
                status = path.stat()
                yield str(path.relative_to(PROJECT_DIR)), status.st_size, status.st_mtime_ns


def progress_callback(progress: BuildProgress) -> Callable[[Any], None]:
    """A dbtRunner callback telling `progress` of every node dbt starts (`LogStartLine`, which carries
    dbt's number of the node and the number of nodes) and finishes (`NodeFinished`)."""

    def on_event(message: Any) -> None:
        name = message.info.name
        if name == "LogStartLine":
            node = message.data.node_info
            progress.node_started(node.unique_id, node.node_name, message.data.index, message.data.total)
        elif name == "NodeFinished":
            progress.node_finished(message.data.node_info.unique_id)

    return on_event


def close_warehouse() -> None:
    """Close the database dbt-duckdb keeps open for a whole invocation (`keep_open: true`).

    dbt-duckdb holds one DuckDB instance per process; left open, this process could not open the
    file again (read-only, for the summary) nor let another process write to it.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb is not installed
        return
    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # no connection was opened in this invocation
        return
    environment.close()
    DuckDBConnectionManager.close_all_connections()


def _failures(result: Any, node_results: list[Any]) -> list[str]:
    if result.exception is not None:
        return [first_line(str(result.exception))]
    failures = []
    for node_result in node_results:
        if str(node_result.status).lower() in FAILED_STATUSES:
            node = node_result.node
            failures.append(f"{node.resource_type} {node.name}: {first_line(node_result.message or '')}")
    return failures
