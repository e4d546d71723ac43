"""Telling that another process holds the Spark target's local metastore, without starting Spark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from idr.spark_session import DERBY_BOOT_LOCK, SparkProfile, metastore_is_held, open_session
from idr.warehouse import WarehouseBusyError

HOLD = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("holding", flush=True)
sys.stdin.read()
"""


def profile_with_derby_home(home: Path) -> SparkProfile:
    options = f"-XX:TieredStopAtLevel=1 -Dderby.system.home={home} -Dother=1"
    return SparkProfile(schema="identity", settings={"spark.driver.extraJavaOptions": options})


def test_a_metastore_booted_by_another_process_is_held_and_refused_before_spark_starts(tmp_path: Path) -> None:
    lock = tmp_path / "derby" / DERBY_BOOT_LOCK
    lock.parent.mkdir(parents=True)
    lock.touch()
    profile = profile_with_derby_home(tmp_path / "derby")
    assert not metastore_is_held(profile)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        assert metastore_is_held(profile)
        assert metastore_is_held(profile)  # telling takes no lock that stays
        with pytest.raises(WarehouseBusyError, match="in use by another process"):
            open_session(profile, tmp_path / "spark")
    finally:
        holder.communicate(input="", timeout=30)
    assert not metastore_is_held(profile)


def test_a_metastore_never_booted_or_without_a_derby_home_is_not_held(tmp_path: Path) -> None:
    assert not metastore_is_held(profile_with_derby_home(tmp_path / "nothing-here"))
    assert not metastore_is_held(SparkProfile(schema="identity", settings={}))
