"""A run of the driver, without its command line: load the new files, build with dbt, publish, count;
and the nightly run, which also writes its JSON report. Nothing here prints: the command line
(idr.cli) says what happened."""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from idr import duckdb_settings, forgetting, inputs, warehouse
from idr.dbt_invoke import PROJECT_DIR, DbtOutcome, run_dbt
from idr.event_files import EventFileError, discover
from idr.lookup import NotFoundError, Reference
from idr.progress import BuildProgress, LoadProgress
from idr.publishing import Publication
from idr.report import Timings
from idr.run_lock import AlreadyRunningError, run_lock, writable_folder
from idr.run_report import build_report, write_report
from idr.summary import WarehouseSummary
from idr.targets import DuckDBTarget, Target
from idr.warehouse import LoadCounts, WarehouseBusyError


@dataclass
class RunResult:
    run_id: str
    load: LoadCounts | None = None
    outcome: DbtOutcome | None = None
    summary: WarehouseSummary | None = None
    publication: Publication | None = None  # the marts published for readers
    forget_requests: list[str] = field(default_factory=list)  # the forget requests this run finished
    timings: Timings = field(default_factory=Timings)

    @property
    def succeeded(self) -> bool:
        return self.outcome is not None and self.outcome.success

    @property
    def failure(self) -> str:
        """Why the build failed, in one line, with what to do when DuckDB ran out of memory."""
        reason = self.outcome.reason if self.outcome else "not run"
        return reason + duckdb_settings.out_of_memory_advice(reason)


@dataclass
class NightlyRun:
    result: RunResult
    report_path: Path


def project_vars() -> dict[str, object]:
    with (PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle).get("vars", {})


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


def landing_schema() -> str:
    return str(project_vars().get("idr_landing_schema", "landing"))


def chosen_segment_tables(target: Target, given: str | None, loading_files: bool) -> str:
    """The Segment tables this build includes (inputs.choose); a choice given is remembered (the caller
    holds the run lock)."""
    remembered, has_loaded_files = target.read_inputs(landing_schema())
    if given is not None and given != remembered:
        target.remember_inputs(landing_schema(), given)
    return inputs.choose(given, remembered, has_loaded_files, loading_files)


def load_events(target: Target, files: list[Path], load_id: str, progress: bool = False) -> LoadCounts:
    """Append the files not loaded before to the landing table (the caller holds the run lock); with
    `progress`, files and rows read so far on stderr's status line."""
    schema = landing_schema()
    if not progress:
        return target.load(files, load_id, schema)
    with LoadProgress(len(files), sys.stderr) as on_file:
        return target.load(files, load_id, schema, on_file)


def load_new_files(target: Target, files: list[Path], progress: bool = False) -> LoadCounts:
    """Under the run lock: only load the files not loaded before (`idr load`)."""
    with run_lock(target.lock_path):
        try:
            target.check_writable()
            return load_events(target, files, new_run_id(), progress)
        finally:
            target.close()


def build_warehouse(
    target: Target,
    files: list[Path],
    segment_tables: str | None,
    full_refresh: bool,
    quiet: bool,
    log_path: Path | None = None,
    unit_tests: bool = True,
    progress: bool = False,
) -> RunResult:
    """Under the run lock: load the files not loaded before, run `dbt build` with the Segment tables
    given (None: as chosen before, see chosen_segment_tables), publish the marts, read the counts.
    With `progress`, a status line on stderr shows the load's and the build's progress."""
    started = time.monotonic()
    result = RunResult(run_id=new_run_id())
    with run_lock(target.lock_path):
        try:
            target.check_writable()
            segment_tables = chosen_segment_tables(target, segment_tables, loading_files=bool(files))
            if files:
                result.load = load_events(target, files, result.run_id, progress)
                result.timings.load_seconds = time.monotonic() - started
            _build_locked(target, result, segment_tables, full_refresh, quiet, log_path, unit_tests, progress)
        finally:
            target.close()
    result.timings.total_seconds = time.monotonic() - started
    return result


def _build_locked(
    target: Target,
    result: RunResult,
    segment_tables: str,
    full_refresh: bool,
    quiet: bool,
    log_path: Path | None,
    unit_tests: bool,
    progress: bool,
) -> None:
    """`dbt build`, then publishing and the counts, into `result` (the caller holds the run lock). Forget
    requests not finished yet (idr forget) make it a full refresh without reloading the seeds (their
    forgotten rows stay deleted), which then rewrites the file and publishes every generation anew; so does a
    build that rejects new rows as `suppressed` (their text is gone from the tables, and then from the file)."""
    state = target.forget_state(landing_schema())
    forget_requests = state.pending_requests
    command = ["build", *(["--full-refresh"] if full_refresh or forget_requests else [])]
    if not unit_tests:  # they test the SQL, not the data: development and CI run them
        command += ["--exclude-resource-type", "unit_test"]
    if forget_requests and segment_tables == inputs.SEEDS:
        command += ["--exclude-resource-type", "seed"]
    dbt_vars = {"idr_segment_tables": segment_tables}
    build_progress = BuildProgress(sys.stderr) if progress else None
    # the load closed the file: a reader that came in since stops the run here, not inside dbt
    target.check_writable()
    result.outcome = run_dbt(command, target.name, target.environment(), dbt_vars, quiet, log_path, build_progress)
    result.timings.dbt_seconds = result.outcome.seconds
    if result.outcome.success:
        published = time.monotonic()
        rewrite = bool(forget_requests) or (state.is_suppressing and target.suppressed_since(state))
        if rewrite:
            target.erase_freed_bytes(landing_schema(), forget_requests)
            result.forget_requests = forget_requests
        result.publication = target.publish(result.outcome.manifest, fresh=rewrite)
        result.timings.publish_seconds = time.monotonic() - published
        result.summary = target.summarize(result.run_id if result.load else None)


def run_nightly(
    target: Target,
    events_dir: Path,
    reports_dir: Path,
    logs_dir: Path,
    segment_tables: str | None,
    full_refresh: bool,
    quiet: bool,
    progress: bool = False,
) -> NightlyRun:
    """The nightly run: the folder's new files loaded and built (unit tests left to development), a
    dbt log per run in `logs_dir` and a JSON report in `reports_dir`, also when the run fails (then the
    error is raised after the report is written; a run that finds the warehouse busy writes none, the
    run in charge writes its own)."""
    started_at = datetime.now(UTC)
    writable_folder(reports_dir, "run reports", create=False)
    writable_folder(logs_dir, "dbt logs", create=False)
    if not events_dir.is_dir():
        error = EventFileError(f"{events_dir}: no such directory")
        _write_failure(target, started_at, reports_dir, error)
        raise error
    try:
        files = discover([events_dir])
    except EventFileError:
        files = []  # nothing arrived: the build still runs, so an interrupted run is completed
    log_path = logs_dir / started_at.strftime("%Y%m%dT%H%M%SZ")
    try:
        result = build_warehouse(
            target, files, segment_tables, full_refresh, quiet, log_path, unit_tests=False, progress=progress
        )
    except (AlreadyRunningError, WarehouseBusyError):
        raise
    except Exception as error:
        _write_failure(target, started_at, reports_dir, error)
        raise
    failure = None if result.succeeded else f"dbt build failed: {result.failure}"
    return NightlyRun(result, _write_report(target, started_at, reports_dir, result, failure))


def _write_failure(target: Target, started_at: datetime, reports_dir: Path, error: Exception) -> Path:
    failed = RunResult(run_id=started_at.strftime("%Y%m%dT%H%M%SZ-failed"))
    return _write_report(target, started_at, reports_dir, failed, f"{type(error).__name__}: {error}")


def _write_report(
    target: Target, started_at: datetime, reports_dir: Path, result: RunResult, error: str | None
) -> Path:
    report = build_report(
        run_id=result.run_id,
        warehouse=target.location,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        status="failed" if error else "succeeded",
        error=error,
        load=result.load,
        outcome=result.outcome,
        summary=result.summary,
        timings=result.timings,
        publication=result.publication,
        forget_requests=result.forget_requests,
    )
    return write_report(report, reports_dir)


@dataclass
class ForgetRun:
    """What `idr forget` did: the request planned (counts by table), and the rebuild (none on a dry run)."""

    plan: forgetting.ForgetPlan
    result: RunResult | None = None


def segment_schema(segment_tables: str) -> str | None:
    """The schema of the Segment tables a DuckDB warehouse builds from: the demo seeds' (dbt names it
    `main_` + the seeds' `+schema`), the var idr_segment_schema for your own, none for `none`."""
    if segment_tables == inputs.SOURCE:
        return str(project_vars().get("idr_segment_schema", "segment"))
    if segment_tables == inputs.SEEDS:
        with (PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
            seeds = yaml.safe_load(handle)["seeds"]["identity_resolution"]
        return f"main_{seeds['+schema']}"
    return None


def forget_people(
    target: DuckDBTarget, references: list[Reference], dry_run: bool, quiet: bool, progress: bool = False
) -> ForgetRun:
    """Under the run lock: plan the request; unless `dry_run`, apply it (idr.forgetting) and rebuild every
    table from the landing table, keeping everyone else's profile ids and merges, then rewrite the file
    and publish anew (_build_locked finishes every pending request)."""
    started = time.monotonic()
    if not target.db_path.exists():
        raise NotFoundError(f"{target.db_path}: no such warehouse (build it with `idr run`)")
    with run_lock(target.lock_path):
        target.check_writable()
        segment_tables = chosen_segment_tables(target, None, loading_files=False)
        schema = segment_schema(segment_tables)
        connection = warehouse.connect(target.db_path)
        try:
            forgetting.check_warehouse(connection, target.db_path)
            planned = forgetting.plan(connection, references, landing_schema(), schema)
            if dry_run:
                return ForgetRun(planned)
            forgetting.apply(connection, planned, landing_schema(), schema)
        finally:
            connection.close()
        result = RunResult(run_id=new_run_id())
        if planned.reaches_rows:
            _build_locked(target, result, segment_tables, False, quiet, None, unit_tests=False, progress=progress)
        else:
            # nothing to rebuild: the audit trail's views are made again (the first request creates its
            # table) and published
            result.outcome = run_dbt(
                ["run", "--select", "stg_landing__privacy_requests", "privacy_requests"],
                target.name,
                target.environment(),
                {"idr_segment_tables": segment_tables},
                quiet=True,
            )
            if result.outcome.success:
                result.publication = target.publish(result.outcome.manifest)
    result.timings.total_seconds = time.monotonic() - started
    return ForgetRun(planned, result)
