"""The driver at a terminal and without one: a status line while loading and building only for a person
at a terminal, and DuckDB's memory limit, threads and spill folder from options and IDR_* variables."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES_DIR, IDR, PROJECT_DIR, assert_one_line_error, run_idr
from dbt.events.types import LogStartLine, NodeFinished
from dbt_common.events.base_types import msg_from_base_event

from idr import cli, duckdb_settings
from idr.dbt_invoke import progress_callback
from idr.duckdb_settings import SettingsError, duckdb_config, out_of_memory_advice
from idr.progress import ERASE_LINE, BuildProgress, LoadProgress

TERMINAL_COLUMNS = 120
PROGRESS_WORDS = ("loading ", "building ", "\x1b[K")


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drawn_lines(output: str) -> list[str]:
    """The texts the status line showed, in order (each drawing starts with a carriage return)."""
    return [part.removesuffix("\x1b[K") for part in output.split("\r") if part and part != "\x1b[K"]


# progress.py


def test_loading_shows_files_and_rows_read_and_the_time() -> None:
    stream, clock = FakeTerminal(), FakeClock()
    with LoadProgress(3, stream, interval=None, clock=clock) as on_file:
        clock.now += 2.5
        on_file(Path("a.ndjson"), 1_200_000)
        clock.now += 10
        on_file(Path("b.ndjson"), None)
    assert drawn_lines(stream.getvalue()) == [
        "loading 0/3 files, 0 rows, 0.0s",
        "loading 1/3 files, 1,200,000 rows, 2.5s",
        "loading 2/3 files (1 loaded before), 1,200,000 rows, 12.5s",
    ]
    assert stream.getvalue().endswith(ERASE_LINE)  # the line goes when the work ends


def test_building_shows_the_node_running_its_number_and_the_time() -> None:
    stream, clock = FakeTerminal(), FakeClock()
    with BuildProgress(stream, interval=None, clock=clock) as progress:
        clock.now += 1.2
        progress.refresh()
        progress.node_started("model.p.stg_events", "stg_events", 1, 97)
        progress.node_started("model.p.int_events_validated", "int_events_validated", 2, 97)
        clock.now += 32.9
        progress.node_finished("model.p.int_events_validated")  # the other one is still running
        progress.node_finished("model.p.stg_events")
    assert drawn_lines(stream.getvalue()) == [
        "building: dbt is starting (0.0s)",
        "building: dbt is starting (1.2s)",
        "building 1/97 stg_events (1.2s)",
        "building 2/97 int_events_validated (1.2s)",
        "building 2/97 stg_events (34.1s)",
        "building 2/97 int_events_validated (34.1s)",
    ]


def test_a_long_node_name_is_shortened_so_that_the_time_stays_in_sight() -> None:
    stream = FakeTerminal()  # no terminal size: 80 columns
    progress = BuildProgress(stream, interval=None, clock=FakeClock())
    progress.node_started("test.p.long", "relationships_" + "x" * 200, 12, 106)
    line = drawn_lines(stream.getvalue())[-1]
    assert len(line) < 80
    assert line.startswith("building 12/106 relationships_xxx")
    assert line.endswith("... (0.0s)")


def test_the_time_moves_while_a_step_is_long() -> None:
    stream = FakeTerminal()
    with BuildProgress(stream, interval=0.01):
        time.sleep(0.2)
    assert len(drawn_lines(stream.getvalue())) >= 3


def test_lines_of_another_stream_are_written_above_the_status_line() -> None:
    stream = FakeTerminal()
    with BuildProgress(stream, interval=None, clock=FakeClock()) as progress:
        progress.node_started("model.p.a", "a", 1, 2)
        stream.seek(0), stream.truncate()
        progress.above(stream).write("Failure in model a\n")
    assert stream.getvalue() == (
        f"{ERASE_LINE}Failure in model a\n\rbuilding 1/2 a (0.0s)\x1b[K{ERASE_LINE}"  # cleared, written, redrawn
    )


def test_nothing_is_written_to_a_stream_that_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with LoadProgress(2, stream, interval=0.01) as on_file:
        on_file(Path("a.ndjson"), 10)
        time.sleep(0.05)
    with BuildProgress(stream, interval=0.01) as progress:
        progress.node_started("model.p.a", "a", 1, 2)
        time.sleep(0.05)
        assert progress.above(stream) is stream
    assert not progress.active
    assert stream.getvalue() == ""


def test_dbts_node_events_drive_the_build_progress() -> None:
    progress = BuildProgress(io.StringIO(), interval=None)
    on_event = progress_callback(progress)
    node = {"unique_id": "model.identity_resolution.profiles", "node_name": "profiles"}
    on_event(
        msg_from_base_event(LogStartLine(description="sql table model main.profiles", index=5, total=9, node_info=node))
    )
    assert progress.text(80).startswith("building 5/9 profiles (")
    on_event(msg_from_base_event(NodeFinished(node_info=node)))
    assert progress.text(80).startswith("building 5/9 profiles (")  # the last node, until another starts
    assert not progress._running


# duckdb_settings.py


def test_duckdb_config_defaults_and_variables(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    assert duckdb_config(db_path, {}) == {
        "memory_limit": "4GB",
        "threads": "2",
        "temp_directory": str(tmp_path / "identity.duckdb.tmp"),
    }
    environ = {"IDR_MEMORY_LIMIT": "1GB", "IDR_THREADS": "1", "IDR_TEMP_DIR": str(tmp_path / "spill")}
    assert duckdb_config(db_path, environ) == {
        "memory_limit": "1GB",
        "threads": "1",
        "temp_directory": str(tmp_path / "spill"),
    }


def test_an_out_of_memory_failure_says_how_to_raise_the_limit() -> None:
    connection = duckdb.connect(config={"memory_limit": "8MB", "threads": "1"})
    with pytest.raises(duckdb.OutOfMemoryException) as raised:
        connection.execute("select list(range) from range(50000000)").fetchall()
    failure = f"model int_identifiers_stitched: Runtime Error in model ({raised.value})"
    advice = out_of_memory_advice(failure, {"IDR_MEMORY_LIMIT": "4GB"})
    assert advice.startswith("; DuckDB's memory limit (4GB) is too small for this build")
    assert "--memory-limit" in advice and "IDR_MEMORY_LIMIT" in advice
    assert out_of_memory_advice(failure, {}).startswith("; DuckDB's memory limit (4GB)")  # the default
    assert out_of_memory_advice("model profiles: Binder Error: column x not found", {}) == ""


def test_duckdb_config_opens_the_warehouse_with_those_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDR_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("IDR_THREADS", "1")
    monkeypatch.delenv("IDR_TEMP_DIR", raising=False)
    db_path = tmp_path / "db.duckdb"
    connection = duckdb.connect(str(db_path), config=duckdb_settings.connect_config(db_path))
    try:
        settings = connection.execute(
            "select current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
        ).fetchall()
    finally:
        connection.close()
    assert settings == [("488.2 MiB", 1, str(tmp_path / "db.duckdb.tmp"))]


def test_an_option_beats_the_variable_which_beats_the_default(tmp_path: Path) -> None:
    db_path = tmp_path / "db.duckdb"
    environ = {"IDR_MEMORY_LIMIT": "2GB", "IDR_THREADS": "3"}
    assert duckdb_settings.resolve(db_path, memory_limit="1GB", environ=environ) == {
        "IDR_MEMORY_LIMIT": "1GB",
        "IDR_THREADS": "3",
        "IDR_TEMP_DIR": str(tmp_path / "db.duckdb.tmp"),
    }
    assert duckdb_settings.resolve(None, threads="4", environ={}) == {"IDR_MEMORY_LIMIT": "4GB", "IDR_THREADS": "4"}


def test_bad_values_are_refused_naming_where_they_came_from(tmp_path: Path) -> None:
    db_path = tmp_path / "db.duckdb"
    with pytest.raises(SettingsError, match=r"^--memory-limit 'lots' is not a size"):
        duckdb_settings.resolve(db_path, memory_limit="lots", environ={})
    with pytest.raises(SettingsError, match=r"^IDR_MEMORY_LIMIT 'lots' is not a size"):
        duckdb_settings.resolve(db_path, environ={"IDR_MEMORY_LIMIT": "lots"})
    for threads in ("0", "two", "-1", ""):
        with pytest.raises(SettingsError, match=r"^--threads .* is not a number of threads"):
            duckdb_settings.resolve(db_path, threads=threads, environ={})
    (tmp_path / "a_file").write_text("")
    with pytest.raises(SettingsError, match=r"^IDR_TEMP_DIR .* is a file"):
        duckdb_settings.resolve(db_path, environ={"IDR_TEMP_DIR": str(tmp_path / "a_file")})


def test_the_drivers_options_become_the_variables_it_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IDR_MEMORY_LIMIT", "IDR_THREADS", "IDR_TEMP_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    args = cli.parse_args(["run", "--db", "w.duckdb", "--memory-limit", "6GB", "--temp-dir", "spill"])
    assert cli.duckdb_environment(args) == {
        "IDR_MEMORY_LIMIT": "6GB",
        "IDR_THREADS": "2",
        "IDR_TEMP_DIR": str(tmp_path.resolve() / "spill"),
    }
    assert cli.duckdb_environment(cli.parse_args(["report", "--db", "w.duckdb"]))["IDR_TEMP_DIR"] == str(
        tmp_path.resolve() / "w.duckdb.tmp"
    )


def dbt_show_settings(db_path: Path, environ: dict[str, str], tmp_path: Path) -> dict[str, object]:
    """DuckDB's settings in a connection dbt-duckdb opens with the project's profiles.yml."""
    sql = (
        "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
        "current_setting('temp_directory') as temp_directory"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IDR_")}
    result = subprocess.run(
        [
            *(str(Path(sys.executable).parent / "dbt"), "show", "--quiet", "--output", "json", "--inline", sql),
            *("--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)),
            *("--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")),
        ],
        env={**clean, "IDR_DB_PATH": str(db_path), **environ},
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["show"][0]


def duckdb_rendering(config: dict[str, str]) -> dict[str, object]:
    """The same settings as DuckDB itself reports them when opened with `config`."""
    connection = duckdb.connect(":memory:", config={**config})
    try:
        row = connection.execute(
            "select current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
        ).fetchall()[0]
    finally:
        connection.close()
    return dict(zip(("memory_limit", "threads", "temp_directory"), row, strict=True))


@pytest.mark.parametrize(
    "environ",
    [{}, {"IDR_MEMORY_LIMIT": "1GB", "IDR_THREADS": "3", "IDR_TEMP_DIR": "SPILL"}],
    ids=["defaults", "variables"],
)
def test_dbt_opens_duckdb_with_the_settings_the_driver_uses(tmp_path: Path, environ: dict[str, str]) -> None:
    environ = {name: value.replace("SPILL", str(tmp_path / "spill")) for name, value in environ.items()}
    db_path = tmp_path / "db.duckdb"
    assert dbt_show_settings(db_path, environ, tmp_path) == duckdb_rendering(duckdb_config(db_path, environ))


# the driver


def run_idr_at_a_terminal(*args: str | Path, expect: int = 0, timeout: float = 600) -> str:
    """Run the `idr` command with stdout and stderr on a pseudo-terminal, as at a person's terminal;
    return everything it wrote there (the terminal turns each newline into \\r\\n)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, TERMINAL_COLUMNS, 0, 0))
    process = subprocess.Popen(
        [sys.executable, *IDR, *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        cwd=PROJECT_DIR,
    )
    os.close(terminal)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([controller], [], [], 1.0)[0]:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the driver has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            process.kill()
            pytest.fail(f"idr.py {' '.join(map(str, args))} still running after {timeout}s")
    finally:
        os.close(controller)
    output = b"".join(chunks).decode("utf-8", errors="replace")
    assert process.wait() == expect, output
    return output


def test_the_demo_at_a_terminal_shows_which_node_is_building(tmp_path: Path) -> None:
    output = run_idr_at_a_terminal("run", "--db", tmp_path / "db.duckdb")
    lines = drawn_lines(output.replace("\r\n", "\n"))
    building = [line for line in lines if line.startswith("building")]
    assert building[0].startswith("building: dbt is starting (")
    numbered = [line.split()[1] for line in building if line[len("building ")].isdigit()]
    total = numbered[-1].split("/")[1]
    assert numbered[-1] == f"{total}/{total}"
    # two dbt threads: the first node drawn is one of the first two started (their start events may
    # arrive in either order), and the count never goes back
    indices = [int(number.split("/")[0]) for number in numbered]
    assert indices[0] <= 2 and indices == sorted(indices), indices
    assert all(line.endswith("s)") and len(line) < TERMINAL_COLUMNS for line in building)
    assert " START sql " not in output  # the status line stands for dbt's line per node
    assert "Warehouse " in output and "  profiles " in output


def test_a_load_at_a_terminal_shows_files_and_rows_read(tmp_path: Path) -> None:
    db_path = tmp_path / "db.duckdb"
    fixtures = [FIXTURES_DIR / "messy_events.ndjson", FIXTURES_DIR / "shared_device.ndjson"]
    output = run_idr_at_a_terminal("load", "--events", *fixtures, "--db", db_path)
    assert "\rloading 0/2 files, 0 rows, " in output
    assert "\rloading 2/2 files, " in output
    output = run_idr_at_a_terminal("load", "--events", *fixtures, "--db", db_path)
    assert "\rloading 2/2 files (2 loaded before), 0 rows, " in output


def test_a_failing_build_at_a_terminal_still_shows_dbts_errors(tmp_path: Path) -> None:
    output = run_idr_at_a_terminal("run", "--db", tmp_path / "db.duckdb", "--segment-tables", "source", expect=1)
    assert "\rbuilding " in output
    assert "Runtime Error in model stg_segment__" in output  # dbt's own error lines
    last_line = output.replace("\r\n", "\n").split("\r")[-1].strip().splitlines()[-1]
    assert last_line.startswith("\x1b[Kidr: dbt build failed: ")


def test_quiet_at_a_terminal_shows_no_progress(tmp_path: Path) -> None:
    events = FIXTURES_DIR / "messy_events.ndjson"
    output = run_idr_at_a_terminal("run", "--quiet", "--events", events, "--db", tmp_path / "db.duckdb")
    assert not any(word in output for word in PROGRESS_WORDS)
    assert output.startswith("Warehouse ")


def test_without_a_terminal_the_output_is_dbts_own_and_the_options_reach_dbt(tmp_path: Path) -> None:
    result = run_idr("run", "--db", tmp_path / "db.duckdb", "--threads", "1", "--memory-limit", "1GB")
    for stream in (result.stdout, result.stderr):
        assert not any(word in stream for word in PROGRESS_WORDS)
    assert " START sql table model " in result.stdout  # dbt's line per node, as ever
    assert "Concurrency: 1 threads (target='duckdb')" in result.stdout
    assert "Warehouse " in result.stdout


@pytest.mark.parametrize("command", ["run", "load", "nightly"])
def test_a_bad_memory_limit_is_a_one_line_usage_error(tmp_path: Path, command: str) -> None:
    events: list[str | Path] = [] if command == "run" else ["--events", tmp_path]
    result = run_idr(command, *events, "--db", tmp_path / "db.duckdb", "--memory-limit", "lots", expect=2)
    assert_one_line_error(result.stderr, "--memory-limit 'lots'", "4GB")
    assert not (tmp_path / "db.duckdb").exists()


def test_bad_threads_and_a_bad_variable_are_one_line_usage_errors(tmp_path: Path) -> None:
    result = run_idr("run", "--db", tmp_path / "db.duckdb", "--threads", "many", expect=2)
    assert_one_line_error(result.stderr, "--threads 'many'")
    environ = {**os.environ, "IDR_MEMORY_LIMIT": "plenty"}
    result = subprocess.run(
        [sys.executable, *IDR, "report", "--db", str(tmp_path / "db.duckdb")],
        env=environ,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        check=False,
    )
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "IDR_MEMORY_LIMIT 'plenty'")


def test_schedule_repeats_the_duckdb_options_given(tmp_path: Path) -> None:
    db_path = tmp_path / "db.duckdb"
    options: list[str | Path] = ["--memory-limit", "8GB", "--threads", "2", "--temp-dir", tmp_path / "spill"]
    entry = run_idr("schedule", "--at", "02:30", "--events", tmp_path, "--db", db_path, *options).stdout.strip()
    assert f"--memory-limit 8GB --threads 2 --temp-dir {tmp_path / 'spill'} --db {db_path}" in entry
    assert entry.endswith(f"# idr-nightly {db_path}")
    plain = run_idr("schedule", "--at", "02:30", "--events", tmp_path, "--db", db_path).stdout
    assert "--memory-limit" not in plain and "--threads" not in plain and "--temp-dir" not in plain
