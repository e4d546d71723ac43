"""One driver run per warehouse at a time.

dbt opens and closes the DuckDB file for every model, so DuckDB's own lock leaves gaps in which a
second run could slip in. The driver therefore holds an exclusive lock on `<db>.lock` for its whole
run. The operating system releases it when the process ends, however it ends, so a crashed or
killed run never leaves it held.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class AlreadyRunningError(RuntimeError):
    """Another driver run holds the warehouse."""


class FolderNotWritableError(RuntimeError):
    """A folder the driver must write in (the warehouse's, the reports') cannot be written."""


def writable_folder(folder: Path, what: str, create: bool = True) -> None:
    """FolderNotWritableError when files cannot be made in `folder`: with `create`, the folder (and its
    parents) is made if needed and a file is made in it; without, a folder that does not exist yet is
    only checked for whether it could be made (its nearest existing parent is a writable folder)."""
    try:
        if create or folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".idr-write-probe-{os.getpid()}"
            probe.touch()
            probe.unlink()
            return
        parent = next(path for path in folder.parents if path.exists())
        if not parent.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(parent))
        if not os.access(parent, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(parent))
    except OSError as error:
        raise FolderNotWritableError(
            f"cannot write in {folder}, the {what}'s folder: {error.strerror or error}"
        ) from None


@contextmanager
def run_lock(db_path: Path) -> Iterator[None]:
    lock_path = db_path.with_name(db_path.name + ".lock")
    writable_folder(lock_path.parent, "warehouse")
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise AlreadyRunningError(
                f"already running: {holder} is working on {db_path}; this run did nothing"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
