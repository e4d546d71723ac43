"""The manifest parsed once per process is used again only for what it was parsed from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from idr import dbt_invoke


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1 as a\n")
    (tmp_path / "dbt_project.yml").write_text("name: p\n")
    monkeypatch.setattr(dbt_invoke, "PROJECT_DIR", tmp_path)
    return tmp_path


def key(monkeypatch: pytest.MonkeyPatch, db_path: str, target: str = "duckdb", **dbt_vars: object) -> tuple:
    monkeypatch.setenv("IDR_DB_PATH", db_path)
    return dbt_invoke.manifest_key(target, dbt_vars)


def test_another_file_of_the_same_name_uses_the_same_manifest(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert key(monkeypatch, "/a/identity.duckdb") == key(monkeypatch, "/b/c/identity.duckdb")


def test_the_database_name_vars_target_and_schema_each_need_their_own(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = key(monkeypatch, "/a/identity.duckdb")
    assert key(monkeypatch, "/a/warehouse.duckdb") != first  # dbt names the database after the file
    assert key(monkeypatch, "/a/identity.duckdb", idr_segment_tables="all") != first
    assert key(monkeypatch, "/a/identity.duckdb", target="spark") != first
    monkeypatch.setenv("IDR_SPARK_SCHEMA", "elsewhere")
    assert key(monkeypatch, "/a/identity.duckdb") != first


def test_a_changed_or_added_project_file_parses_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = key(monkeypatch, "/a/identity.duckdb")
    model = project / "models" / "a.sql"
    model.write_text("select 2 as a\n")
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    changed = key(monkeypatch, "/a/identity.duckdb")
    assert changed != first
    (project / "models" / "b.sql").write_text("select 1 as b\n")
    added = key(monkeypatch, "/a/identity.duckdb")
    assert added not in (first, changed)
    (project / "target").mkdir()  # dbt's output is not parsed, nor Python's compiled files
    (project / "target" / "manifest.json").write_text("{}")
    (project / "tests" / "__pycache__").mkdir(parents=True)
    (project / "tests" / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\0")
    assert key(monkeypatch, "/a/identity.duckdb") == added
