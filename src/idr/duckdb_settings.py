"""DuckDB's memory limit, threads and spill folder: the environment variables that set them, their
defaults, and the checks. profiles.yml gives dbt-duckdb the same variables with the same defaults;
the driver's own connections take `duckdb_config`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb

MEMORY_LIMIT_VAR = "IDR_MEMORY_LIMIT"
THREADS_VAR = "IDR_THREADS"
TEMP_DIR_VAR = "IDR_TEMP_DIR"
DEFAULT_MEMORY_LIMIT = "4GB"
DEFAULT_THREADS = "2"
# the `config` of duckdb.connect
DuckDBConfig = dict[str, str | bool | int | float | list[str]]
TEMP_DIR_SUFFIX = ".tmp"  # the default spill folder is `<warehouse file>.tmp`

# DuckDB's name of each setting -> the variable that sets it, and the driver's option that sets that
VARIABLES = {"memory_limit": MEMORY_LIMIT_VAR, "threads": THREADS_VAR, "temp_directory": TEMP_DIR_VAR}
OPTIONS = {"memory_limit": "--memory-limit", "threads": "--threads", "temp_directory": "--temp-dir"}


class SettingsError(ValueError):
    """A memory limit, thread count or spill folder DuckDB cannot take."""


def out_of_memory_advice(failure: str, environ: Mapping[str, str] | None = None) -> str:
    """What to do when `failure` (a failed build's one line) is DuckDB running out of its memory limit,
    to be appended to that line; empty for any other failure."""
    if "Out of Memory Error" not in failure:
        return ""
    limit = (os.environ if environ is None else environ).get(MEMORY_LIMIT_VAR, DEFAULT_MEMORY_LIMIT)
    return (
        f"; DuckDB's memory limit ({limit}) is too small for this build: raise it with --memory-limit or "
        f"{MEMORY_LIMIT_VAR} (the stitching needs about 1 GB per 10M events)"
    )


def is_lock_conflict(failure: str) -> bool:
    """Whether `failure` (a failed build's one line) is DuckDB refusing the file because another
    process holds it."""
    return "Could not set lock on file" in failure


def default_temp_dir(db_path: Path) -> Path:
    """Where DuckDB spills what does not fit its memory limit, unless IDR_TEMP_DIR says: `<db_path>.tmp`."""
    return db_path.with_name(db_path.name + TEMP_DIR_SUFFIX)


def duckdb_config(db_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `config` for duckdb.connect of the warehouse file `db_path`: IDR_MEMORY_LIMIT, IDR_THREADS
    and IDR_TEMP_DIR from `environ` (default: this process's environment), else DEFAULT_MEMORY_LIMIT,
    DEFAULT_THREADS and `<db_path>.tmp`. A variable set to an empty value counts as set, as in dbt."""
    return _read(_defaults(db_path), os.environ if environ is None else environ)


def connect_config(db_path: Path) -> DuckDBConfig:
    """duckdb_config(db_path), typed as duckdb.connect takes it."""
    return {**duckdb_config(db_path)}


def resolve(
    db_path: Path | None,
    memory_limit: str | None = None,
    threads: str | None = None,
    temp_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables to export so that dbt and the driver's connections agree: each value given (the
    driver's options), else the variable set in `environ`, else the default; every one checked
    (SettingsError names the option or variable). Without a warehouse file (`db_path` None) the spill
    folder is exported only when it is given or set."""
    given = {"memory_limit": memory_limit, "threads": threads, "temp_directory": temp_dir}
    values = dict(os.environ if environ is None else environ)
    values.update({VARIABLES[setting]: str(value) for setting, value in given.items() if value is not None})
    config = _read(_defaults(db_path), values)
    if TEMP_DIR_VAR in values:
        config["temp_directory"] = values[TEMP_DIR_VAR]
    for setting, value in config.items():
        source = OPTIONS[setting] if given[setting] is not None else VARIABLES[setting]
        CHECKS[setting](value, source)
    return {VARIABLES[setting]: value for setting, value in config.items()}


def _defaults(db_path: Path | None) -> dict[str, str]:
    defaults = {"memory_limit": DEFAULT_MEMORY_LIMIT, "threads": DEFAULT_THREADS}
    if db_path is not None:
        defaults["temp_directory"] = str(default_temp_dir(db_path))
    return defaults


def _read(defaults: dict[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    return {setting: environ.get(VARIABLES[setting], default) for setting, default in defaults.items()}


def _check_memory_limit(value: str, source: str) -> None:
    try:
        duckdb.connect(":memory:", config={"memory_limit": value}).close()
    except duckdb.Error as error:
        reason = str(error).split(": ", 1)[-1].splitlines()[0]
        raise SettingsError(
            f"{source} {value!r} is not a size: give one such as 4GB, 512MB or 50% (DuckDB: {reason})"
        ) from None


def _check_threads(value: str, source: str) -> None:
    if not (value.isascii() and value.isdigit() and int(value) >= 1):
        raise SettingsError(f"{source} {value!r} is not a number of threads: give a whole number, 1 or more")


def _check_temp_dir(value: str, source: str) -> None:
    if not value.strip():
        raise SettingsError(f"{source} is empty: give the folder DuckDB may spill to")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{source} {value!r} is a file: give the folder DuckDB may spill to")


CHECKS = {"memory_limit": _check_memory_limit, "threads": _check_threads, "temp_directory": _check_temp_dir}
