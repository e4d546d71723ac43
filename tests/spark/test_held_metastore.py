"""A driver whose Spark metastore another process has booted is refused before Spark starts (the
streams test, tests/spark/test_spark_streams.py, holds a real one)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="the Spark extras are not installed (make spark-setup)")

from derby_lock import lock_held, profile_with_derby_home

from idr.spark_session import DERBY_BOOT_LOCK, open_session
from idr.warehouse import WarehouseBusyError


def test_a_held_metastore_is_refused_before_spark_starts(tmp_path: Path) -> None:
    from pyspark import SparkContext

    held = lock_held(tmp_path / "derby" / DERBY_BOOT_LOCK)
    with held, pytest.raises(WarehouseBusyError, match="in use by another process"):
        open_session(profile_with_derby_home(tmp_path / "derby"), tmp_path / "spark")
    assert SparkContext._active_spark_context is None  # no JVM was started
