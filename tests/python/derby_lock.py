"""For the tests of the held-metastore check: a Spark profile with a Derby home, and a child process that holds
a lock on a file as a booted Derby holds its metastore's boot lock."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from idr.spark_session import SparkProfile

HOLD = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("holding", flush=True)
sys.stdin.read()
"""


@contextmanager
def lock_held(path: Path) -> Iterator[None]:
    """While inside, another process holds a lock on `path` (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield
    finally:
        holder.communicate(input="", timeout=30)


def profile_with_derby_home(home: Path) -> SparkProfile:
    """A `spark` profile whose JVM options set Derby's home to `home`, among other options."""
    options = f"-XX:TieredStopAtLevel=1 -Dderby.system.home={home} -Dother=1"
    return SparkProfile(schema="identity", settings={"spark.driver.extraJavaOptions": options})
