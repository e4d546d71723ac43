"""Publishing the readers' copy, side by side: updating a generation with one night's changes against
copying every mart into a new one.

Run it on the work folder of `idr-benchmark` after that benchmark's night: the generation the
readers' link does not name is then the one the full build published, a night behind the warehouse. It
is kept aside, and each try either puts it back and publishes (an update, as every night does) or removes
it and publishes (every mart copied, as the first night does). The link is turned back after each try.

    idr-benchmark-publishing --work build/bench-10m [--tries 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from idr.dbt_invoke import PROJECT_DIR
from idr.publishing import GENERATIONS, generation_path, marts, point_link, publish, reader_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="the benchmark's work folder")
    parser.add_argument("--tries", type=int, default=2, help="tries of each way (default 2)")
    args = parser.parse_args()
    db_path = args.work / "identity.duckdb"
    link = reader_path(db_path)
    if not link.is_symlink():
        raise SystemExit(f"benchmark_publishing: {link} is not a readers' link; run idr-benchmark first")
    current = next(g for g in GENERATIONS if generation_path(db_path, g).name == os.readlink(link))
    behind = generation_path(db_path, 1 - current)
    kept = behind.with_name(behind.name + ".kept")
    if not kept.exists():
        shutil.copyfile(behind, kept)
    tables = marts(PROJECT_DIR / "target" / "manifest.json")
    print("| try | way | seconds | marts updated | marts copied |\n| --- | --- | --- | --- | --- |")
    for attempt in range(1, args.tries + 1):
        for way in ("update", "copy"):
            behind.unlink(missing_ok=True)
            if way == "update":
                shutil.copyfile(kept, behind)
            os.sync()
            started = time.monotonic()
            published = publish(db_path, tables)
            seconds = time.monotonic() - started
            print(f"| {attempt} | {way} | {seconds:.2f} | {len(published.updated)} | {len(published.copied)} |")
            point_link(link, generation_path(db_path, current))


if __name__ == "__main__":
    main()
