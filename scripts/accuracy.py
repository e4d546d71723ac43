#!/usr/bin/env python3
"""Accuracy of a resolved warehouse against the generator's truth file.

    python scripts/accuracy.py --db build/bench/identity.duckdb --truth build/bench/events/truth.csv [--json out.json]

Prints pairwise precision, recall and F1 over events and over identifiers, and the counts of
over-merged profiles and split people (see scripts/idrlib/accuracy.py for the definitions).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from idrlib import warehouse
from idrlib.accuracy import Accuracy, measure


def format_accuracy(accuracy: Accuracy) -> str:
    lines = ["| view | items | precision | recall | F1 |", "| --- | --- | --- | --- | --- |"]
    views = (
        ("events", accuracy.events),
        ("events with an owned identifier", accuracy.events_with_an_owned_identifier),
        ("identifiers", accuracy.identifiers),
    )
    for name, pairs in views:
        lines.append(f"| {name} | {pairs.items:,} | {pairs.precision:.4f} | {pairs.recall:.4f} | {pairs.f1:.4f} |")
    lines += [
        "",
        f"people {accuracy.people:,}, profiles {accuracy.profiles:,}, "
        f"events without a profile {accuracy.events_without_profile:,}, "
        f"events whose every identifier is shared {accuracy.events_only_on_shared_identifiers:,}",
        f"over-merged profiles {accuracy.over_merged_profiles:,} "
        f"(holding a shared identifier: {accuracy.over_merged_profiles_with_shared_identifier:,}), "
        f"split people {accuracy.split_people:,}, shared identifiers {accuracy.shared_identifiers:,}",
        "",
        "| assignment reason | events | on their person's main profile |",
        "| --- | --- | --- |",
    ]
    for reason, (events, right) in accuracy.events_by_reason.items():
        lines.append(f"| {reason} | {events:,} | {right:,} ({right / events:.2%}) |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="the resolved DuckDB warehouse")
    parser.add_argument("--truth", type=Path, required=True, help="truth.csv (message_id, person)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if not args.truth.is_file():
        print(f"accuracy: {args.truth}: no such file", file=sys.stderr)
        return 2
    try:
        connection = warehouse.connect(args.db.resolve(), read_only=True)
    except warehouse.WarehouseMissingError as error:
        print(f"accuracy: {error}", file=sys.stderr)
        return 2
    try:
        accuracy = measure(connection, args.truth)
    finally:
        connection.close()
    print(format_accuracy(accuracy))
    if args.json:
        args.json.write_text(json.dumps(accuracy.as_dict(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
