"""Query results as text: an aligned table, CSV or JSON lines (`idr sql`, and the tables of `idr profile`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

OUTPUT_FORMATS = ("table", "csv", "json")
MAX_CELL = 60  # wider text values are cut in the aligned table (CSV and JSON keep them whole)


def format_rows(names: Sequence[str], rows: Sequence[Sequence[Any]], output: str = "table") -> str:
    """The rows under their column names in one of OUTPUT_FORMATS."""
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[_csv_cell(value) for value in row] for row in rows])
        return buffer.getvalue().rstrip("\n")
    if output == "json":
        return "\n".join(json.dumps(dict(zip(names, row, strict=True)), default=json_value) for row in rows)
    return aligned_table(names, rows)


def aligned_table(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell; numbers right-aligned; a count line under the table."""
    cells = [[_text(value) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[index]) for row in cells)]) for index, name in enumerate(names)]
    numeric = [
        bool(rows) and all(isinstance(row[index], int | float | Decimal) or row[index] is None for row in rows)
        for index in range(len(names))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if is_number else value.ljust(width)
            for value, width, is_number in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(names)), "  ".join("-" * width for width in widths)]
    out += [line(row) for row in cells]
    out.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(out)


def json_value(value: Any) -> Any:
    """A JSON-ready form of a DuckDB value: times as ISO 8601, decimals as numbers, the rest as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value
