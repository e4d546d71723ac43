"""Telling that another process holds the Spark target's local metastore, without starting Spark (the
driver's refusal itself, which needs pyspark, is tested in tests/spark/test_held_metastore.py)."""

from __future__ import annotations

from pathlib import Path

from derby_lock import lock_held, profile_with_derby_home

from idr.spark_session import DERBY_BOOT_LOCK, SparkProfile, metastore_is_held


def test_a_metastore_booted_by_another_process_is_held(tmp_path: Path) -> None:
    lock = tmp_path / "derby" / DERBY_BOOT_LOCK
    profile = profile_with_derby_home(tmp_path / "derby")
    with lock_held(lock):
        assert metastore_is_held(profile)
        assert metastore_is_held(profile)  # telling takes no lock that stays
    assert not metastore_is_held(profile)


def test_a_metastore_never_booted_or_without_a_derby_home_is_not_held(tmp_path: Path) -> None:
    assert not metastore_is_held(profile_with_derby_home(tmp_path / "nothing-here"))
    assert not metastore_is_held(SparkProfile(schema="identity", settings={}))
