"""A crontab entry for the nightly run, printed or installed."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

MARKER = "# idr-nightly"


class ScheduleError(RuntimeError):
    """The entry cannot be made or installed."""


def cron_entry(at: str, project_dir: Path, events_dir: Path, warehouse_args: list[str], log_file: Path) -> str:
    """The crontab line that runs `idr nightly` (`python -m idr`) every day at HH:MM (the machine's local time) on the
    warehouse `warehouse_args` name (`--db FILE`, or `--target spark --spark-dir DIR`)."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", at)
    if not match:
        raise ScheduleError(f"--at wants HH:MM (00:00 to 23:59), not {at!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    command = " ".join(
        [
            "cd",
            shlex.quote(str(project_dir)),
            "&&",
            shlex.quote(sys.executable),
            "-m idr nightly --events",
            shlex.quote(str(events_dir)),
            *map(shlex.quote, warehouse_args),
            ">>",
            shlex.quote(str(log_file)),
            "2>&1",
        ]
    )
    return f"{minute} {hour} * * * {command} {MARKER} {warehouse_args[-1]}"


def install(entry: str, warehouse_args: list[str], crontab: str = "crontab") -> None:
    """Replace this warehouse's entry in the user's crontab (other entries are kept)."""
    try:
        current = subprocess.run([crontab, "-l"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ScheduleError(f"{crontab} is not installed here; add the printed line to your scheduler") from None
    lines = current.stdout.splitlines() if current.returncode == 0 else []
    kept = [line for line in lines if not line.endswith(f"{MARKER} {warehouse_args[-1]}")]
    written = subprocess.run([crontab, "-"], input="\n".join([*kept, entry]) + "\n", text=True, check=False)
    if written.returncode != 0:
        raise ScheduleError(f"{crontab} refused the new crontab (exit {written.returncode})")
