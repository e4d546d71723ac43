"""Progress of long work as one status line, rewritten in place on a terminal; on any other stream
(a file, a pipe, cron's mail) nothing at all is written."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self, TextIO, cast

ERASE_LINE = "\r\x1b[K"
DEFAULT_COLUMNS = 80


def is_terminal(stream: TextIO) -> bool:
    """Whether the stream is a terminal (a closed or detached stream is not)."""
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


class ProgressLine:
    """One status line at the bottom of a terminal, redrawn on every change and every `interval`
    seconds (so the elapsed time moves while a step is long); cleared when the work ends.

    Use it as a context manager. Subclasses say what the line reads in a terminal `columns` wide
    (`text`); what is longer is cut."""

    def __init__(
        self, stream: TextIO, interval: float | None = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.active = is_terminal(stream)
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._lock = threading.RLock()
        self._drawn = False
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    def text(self, columns: int) -> str:
        raise NotImplementedError

    def refresh(self) -> None:
        """Draw the line as it reads now."""
        if not self.active:
            return
        with self._lock:
            columns = self._columns() - 1  # a line filling the last column would wrap on some terminals
            self.stream.write("\r" + self.text(columns)[:columns] + "\x1b[K")
            self.stream.flush()
            self._drawn = True

    def clear(self) -> None:
        """Remove the line, leaving the cursor at the start of the empty row."""
        if not self.active:
            return
        with self._lock:
            if self._drawn:
                self.stream.write(ERASE_LINE)
                self.stream.flush()
                self._drawn = False

    def above(self, stream: TextIO) -> TextIO:
        """`stream` (another stream on the same terminal, such as stdout), made to write its lines
        above the status line instead of through it."""
        # a duck-typed text stream: write and flush, which is what print and redirect_stdout use
        return cast(TextIO, _WritingAbove(stream, self)) if self.active else stream

    def __enter__(self) -> Self:
        self._started = self._clock()
        if self.active and self._interval:
            self._ticker = threading.Thread(target=self._tick, args=(self._interval,), daemon=True)
            self._ticker.start()
        self.refresh()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        self.clear()

    def _tick(self, interval: float) -> None:
        while not self._stopped.wait(interval):
            self.refresh()

    def _columns(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return DEFAULT_COLUMNS
        return columns if columns > 1 else DEFAULT_COLUMNS


class _WritingAbove:
    """A stream whose every write first clears the status line, then redraws it after a full line."""

    def __init__(self, stream: TextIO, line: ProgressLine) -> None:
        self._stream = stream
        self._line = line

    def write(self, text: str) -> int:
        with self._line._lock:
            self._line.clear()
            written = self._stream.write(text)
            self._stream.flush()
            if text.endswith("\n"):
                self._line.refresh()
        return written

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


class LoadProgress(ProgressLine):
    """`loading 37/100 files, 3,700,000 rows, 12.3s`; called after each file as the loaders' `on_file`."""

    def __init__(
        self,
        total_files: int,
        stream: TextIO,
        interval: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(stream, interval, clock)
        self.total_files = total_files
        self.files_done = 0
        self.files_skipped = 0
        self.rows = 0

    def __call__(self, path: Path, rows: int | None) -> None:
        with self._lock:
            self.files_done += 1
            if rows is None:
                self.files_skipped += 1
            else:
                self.rows += rows
        self.refresh()

    def text(self, columns: int) -> str:
        skipped = f" ({self.files_skipped:,} loaded before)" if self.files_skipped else ""
        return (
            f"loading {self.files_done:,}/{self.total_files:,} files{skipped}, {self.rows:,} rows, {self.elapsed:.1f}s"
        )


class BuildProgress(ProgressLine):
    """`building 12/97 int_events_validated (34.1s)`: dbt's number of the latest node started, of all
    the invocation's nodes, the node (the latest started of those still running) and the time so far."""

    def __init__(
        self, stream: TextIO, interval: float | None = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(stream, interval, clock)
        self.index = 0
        self.total = 0
        self._running: dict[str, str] = {}  # unique id -> name, in the order they started
        self._last_name = ""

    def node_started(self, unique_id: str, name: str, index: int, total: int) -> None:
        with self._lock:
            self.index = max(self.index, index)
            self.total = total
            self._running[unique_id] = name
            self._last_name = name
        self.refresh()

    def node_finished(self, unique_id: str) -> None:
        with self._lock:
            self._running.pop(unique_id, None)
        self.refresh()

    def text(self, columns: int) -> str:
        if not self.total:
            return f"building: dbt is starting ({self.elapsed:.1f}s)"
        name = next(reversed(self._running.values()), self._last_name)
        counted, timed = f"building {self.index}/{self.total} ", f" ({self.elapsed:.1f}s)"
        room = max(columns - len(counted) - len(timed), 8)
        if len(name) > room:  # the time stays in sight: the name is shortened instead
            name = name[: room - 3] + "..."
        return counted + name + timed
