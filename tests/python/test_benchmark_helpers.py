"""The benchmark's own bookkeeping: which files make the night, what the warehouse weighs, and the
Markdown table with and without the optional measures."""

from __future__ import annotations

from pathlib import Path

from idr_tools.benchmark import markdown, split_night, warehouse_mb

DAYS = 100


def day_files(folder: Path, shards: int) -> None:
    for day in range(DAYS):
        for part in range(1, shards + 1):
            name = f"day-{day:04d}.ndjson" if shards == 1 else f"day-{day:04d}-part-{part}.ndjson.gz"
            (folder / name).write_text("")
    (folder / "truth.csv").write_text("message_id,person\r\n")


def test_the_night_is_the_last_day_of_every_shard(tmp_path: Path) -> None:
    day_files(tmp_path, shards=3)
    history, night = split_night(tmp_path, 0.01)
    assert [path.name for path in night] == [f"day-0099-part-{part}.ndjson.gz" for part in (1, 2, 3)]
    assert len(history) == 99 * 3 and not set(history) & set(night)
    assert "truth.csv" not in {path.name for path in history}


def test_the_night_holds_about_its_share_of_the_days(tmp_path: Path) -> None:
    day_files(tmp_path, shards=1)
    _, night = split_night(tmp_path, 0.03)
    assert [path.name for path in night] == ["day-0097.ndjson", "day-0098.ndjson", "day-0099.ndjson"]
    _, night = split_night(tmp_path, 0.0)
    assert [path.name for path in night] == ["day-0099.ndjson"], "one day at least"


def test_the_warehouse_size_counts_both_files_and_their_write_ahead_logs(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    db_path.write_bytes(b"x" * 3 * 1024 * 1024)
    assert warehouse_mb(db_path) == {"db": 3.0, "marts": 0, "wal": 0}
    db_path.with_name("identity.duckdb.wal").write_bytes(b"x" * 512 * 1024)
    assert warehouse_mb(db_path) == {"db": 3.0, "marts": 0, "wal": 0.5}
    db_path.with_name("identity.marts.duckdb").write_bytes(b"x" * 1024 * 1024)
    db_path.with_name("identity.marts.duckdb.wal").write_bytes(b"x" * 512 * 1024)
    assert warehouse_mb(db_path) == {"db": 4.0, "marts": 1.0, "wal": 1.0}


def results() -> dict:
    return {
        "format": "ndjson",
        "events_loaded": 990_000,
        "load_seconds": 10.0,
        "load_peak_mb": 500.0,
        "full_build_seconds": 20.0,
        "full_build_peak_mb": 1_700.0,
        "full_build_publish_seconds": 1.25,
        "warehouse_mb_after_full_build": {"db": 700.0, "wal": 0.0},
        "events_per_second": 33_000,
        "night_files": 1,
        "night_events": 9_500,
        "night_share": 0.0095,
        "night_seconds": 8.0,
        "night_peak_mb": 600.0,
        "night_publish_seconds": 1.5,
        "night_over_full_build": 0.4,
        "warehouse_mb_after_night": {"db": 720.0, "wal": 12.5},
        "node_seconds": {"int_events_validated": 9.0, "profiles": 0.5},
        "night_node_seconds": {"profile_events": 1.5},
    }


def test_the_table_leaves_out_what_was_skipped_and_lists_both_runs_nodes() -> None:
    table = markdown(results())
    assert "| night: new events | 9,500 (0.95%) in 1 files |" in table
    assert "| warehouse after the night | 720.0 MB + 12.5 MB of WAL |" in table
    assert "| warehouse after the full build | 700.0 MB |" in table
    publishing = [line for line in table.splitlines() if line.startswith("| of which publishing")]
    assert publishing == [
        "| of which publishing the readers' copy | 1.25 s |",
        "| of which publishing the readers' copy | 1.5 s |",
    ]
    assert "scipy" not in table and "accuracy" not in table
    assert "Slowest nodes of the full build" in table and "| int_events_validated | 9.0 |" in table
    assert "Slowest nodes of the night" in table and "| profile_events | 1.5 |" in table
