"""Readers open the published copy of the marts: a reader holding it open never stops a night, and
while a night runs the marts can still be queried."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from conftest import IDR, PROJECT_DIR, query, run_idr

HOLDER = """
import duckdb, sys
connection = duckdb.connect(sys.argv[1], read_only=True)
print(connection.execute("select count(*) from profile_events").fetchone()[0], flush=True)
for line in sys.stdin:  # every line asks again, on the connection opened before the night
    print(connection.execute("select count(*) from profile_events").fetchone()[0], flush=True)
"""


def night_events(count: int) -> str:
    return "".join(
        json.dumps(
            {
                "messageId": f"night-{n}",
                "type": "track",
                "event": "Viewed",
                "userId": f"night-user-{n % 50}",
                "timestamp": "2024-06-01T10:00:00Z",
            }
        )
        + "\n"
        for n in range(count)
    )


def test_a_reader_holding_the_marts_never_stops_a_night_and_can_query_during_it(tmp_path: Path) -> None:
    db_path = tmp_path / "identity.duckdb"
    readers = tmp_path / "identity.readers.duckdb"
    first = tmp_path / "inbox" / "day1.ndjson"
    first.parent.mkdir()
    first.write_text(night_events(100))
    run_idr("run", "--events", first, "--db", db_path, "--quiet")
    assert query(readers, "select count(*) from profile_events") == [(100,)]
    tables = {name for (name,) in query(readers, "select table_name from information_schema.tables")}
    assert {"profiles", "profile_events", "profile_traits", "rejected_events", "suspected_placeholder_values"} <= tables
    assert not any(name.startswith(("int_", "stg_")) for name in tables)

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(readers)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "100"
        (tmp_path / "inbox" / "day2.ndjson").write_text(night_events(250)[len(night_events(100)) :])
        night = subprocess.Popen(
            [sys.executable, *IDR, "nightly", "--events", tmp_path / "inbox", "--db", db_path, "--quiet",
             "--reports", tmp_path / "reports", "--logs", tmp_path / "logs"],
            cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        queried_during_the_night = 0
        while night.poll() is None:
            # a new reader, while the night runs: the published marts answer
            connection = duckdb.connect(str(readers), read_only=True)
            try:
                assert connection.execute("select count(*) from profile_events").fetchone() in [(100,), (250,)]
            finally:
                connection.close()
            queried_during_the_night += 1
            time.sleep(0.2)
        stdout, stderr = night.communicate()
        assert night.returncode == 0, stdout + stderr
        assert queried_during_the_night > 3
        # the reader that held the copy open all night still reads the copy it opened
        holder.stdin.write("again\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "100"
    finally:
        holder.kill()
        holder.wait()
    assert query(readers, "select count(*) from profile_events") == [(250,)]
    assert query(readers, "select count(*) from profile_events") == query(
        db_path, "select count(*) from profile_events"
    )
