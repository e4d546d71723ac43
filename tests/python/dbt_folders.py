"""A pytest plugin of every run (tests/python and tests/spark; pytest.ini loads it): dbt's folders per
process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    """Each process of a parallel run (pytest-xdist's workers) gets dbt's target and log folders of its
    own: dbt writes its manifest, run results and log there on every invocation, and two processes
    writing one file would mix them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ.setdefault("DBT_TARGET_PATH", str(PROJECT_DIR / "build" / "pytest" / worker / "target"))
        os.environ.setdefault("DBT_LOG_PATH", str(PROJECT_DIR / "build" / "pytest" / worker / "logs"))
