"""The Spark session of the `spark` target, opened by the driver with the settings dbt would use.

dbt-spark's `session` method gets its session with `SparkSession.builder.getOrCreate()`, so a session
this process opens first is the one dbt builds with: the driver opens it with the `spark` output of
`profiles.yml` (rendered here with the same IDR_SPARK_DIR and IDR_SPARK_SCHEMA), lands the event files
through it, lets dbt build, and reads its counts through it. The local metastore (Derby) admits one
process at a time: when another process holds it, opening fails with a WarehouseBusyError.
"""

from __future__ import annotations

import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from idr.warehouse import WarehouseBusyError

PROFILE = "identity_resolution"
TARGET = "spark"
DERBY_LOCKED = ("Another instance of Derby may have already booted the database", "Failed to start database")
# Derby's home, set in spark.driver.extraJavaOptions; a booted metastore holds a lock on this file in it
DERBY_HOME = re.compile(r"-Dderby\.system\.home=(\S+)")
DERBY_BOOT_LOCK = Path("metastore_db") / "dbex.lck"


class SparkUnavailableError(RuntimeError):
    """The Spark extras are not installed, or Spark could not start."""


@dataclass(frozen=True)
class SparkProfile:
    schema: str
    settings: dict[str, str]


def read_profile(profiles_dir: Path) -> SparkProfile:
    """The schema and session settings of the `spark` output, rendered with the current environment."""
    with (profiles_dir / "profiles.yml").open(encoding="utf-8") as handle:
        output = yaml.safe_load(handle)[PROFILE]["outputs"][TARGET]
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)

    def render(value: Any) -> str:
        return environment.from_string(str(value)).render(env_var=_env_var)

    settings = {key: render(value) for key, value in (output.get("server_side_parameters") or {}).items()}
    return SparkProfile(schema=render(output["schema"]), settings=settings)


def _env_var(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise SparkUnavailableError(f"profiles.yml needs the environment variable {name}")
    return value


def open_session(profile: SparkProfile, spark_dir: Path) -> Any:
    """A Spark session with the profile's settings, its metastore reachable (else WarehouseBusyError)."""
    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailableError(
            "the Spark target needs the Spark extras: run `make spark-setup` (dbt-spark, pyspark; Java 17)"
        ) from None
    # while this process runs Spark already, the metastore's lock may be its own JVM's
    if SparkContext._active_spark_context is None and metastore_is_held(profile):
        raise _busy(spark_dir)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in profile.settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: no Java, or too little memory
        raise SparkUnavailableError(f"Spark could not start: {_first_line(error)}") from error
    session.sparkContext.setLogLevel("ERROR")
    try:
        session.sql("show databases").collect()  # boots the metastore
    except Exception as error:
        session.stop()
        # the Derby message is in the Java causes, which PySpark keeps with the stack trace
        details = f"{error}\n{getattr(error, '_stackTrace', '')}"
        if any(marker in details for marker in DERBY_LOCKED):
            raise _busy(spark_dir) from None
        raise
    return session


def metastore_is_held(profile: SparkProfile) -> bool:
    """Whether another process has booted the profile's local Derby metastore, told without starting a JVM
    (which, with the metastore held, spends some 20 s in the Hive client's retries before it fails): Derby
    holds a lock on `metastore_db/dbex.lck` while booted. The lock is taken and given back at once; a
    metastore booting in that instant fails as held, with the same message."""
    found = DERBY_HOME.search(profile.settings.get("spark.driver.extraJavaOptions", ""))
    if not found:
        return False
    try:
        descriptor = os.open(Path(found.group(1)) / DERBY_BOOT_LOCK, os.O_RDWR)
    except OSError:
        return False  # never booted, or not ours to read: Derby says so when it boots
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(descriptor, fcntl.LOCK_UN)
        return False
    finally:
        os.close(descriptor)


def _busy(spark_dir: Path) -> WarehouseBusyError:
    return WarehouseBusyError(
        f"{spark_dir} is in use by another process (Spark's local Derby metastore admits one "
        "process at a time); try again when it has finished"
    )


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
