"""One-line forms of long messages (dbt's, DuckDB's, Spark's) for the driver's errors."""

from __future__ import annotations


def first_line(text: str) -> str:
    """The first two non-blank lines of `text`, stripped and joined (a DuckDB error's kind and its detail)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:2]) if lines else "no message"
