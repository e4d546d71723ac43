"""The accuracy report against a brute-force count of pairs on small random warehouses."""

from __future__ import annotations

import csv
import random
from collections import Counter
from itertools import combinations
from pathlib import Path

import duckdb
import pytest

from idr_tools.accuracy import measure


def brute_force(assignments: list[tuple[str, str]]) -> tuple[int, int, int]:
    """(pairs in one profile, pairs of one person, pairs in both) over all pairs of items."""
    predicted = true = correct = 0
    for (profile_a, person_a), (profile_b, person_b) in combinations(assignments, 2):
        predicted += profile_a == profile_b
        true += person_a == person_b
        correct += profile_a == profile_b and person_a == person_b
    return predicted, true, correct


@pytest.mark.parametrize("seed", range(5))
def test_pairwise_figures_match_counting_every_pair(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    people = [f"p{n}" for n in range(rng.randint(2, 6))]
    profiles = [f"prof_{n}" for n in range(rng.randint(1, 6))]
    # identifiers: most owned by one person, some shared; each sits in one profile
    identifiers = []
    for key in range(1, rng.randint(6, 15)):
        owners = rng.sample(people, k=2 if rng.random() < 0.2 else 1)
        identifiers.append((key, owners, rng.choice(profiles)))
    events = []  # (message_id, person, identifier keys, profile)
    reasons = {}
    for number in range(rng.randint(10, 40)):
        key, owners, _ = rng.choice(identifiers)
        events.append((f"m{number}", rng.choice(owners), key, rng.choice(profiles)))
        reasons[f"m{number}"] = rng.choice(["identifier", "unshared_identifier", "session", "shared_identifier"])

    db_path = tmp_path / "warehouse.duckdb"
    connection = duckdb.connect(str(db_path))
    connection.execute("create table profiles (profile_id varchar)")
    connection.executemany("insert into profiles values (?)", [[p] for p in profiles])
    connection.execute(
        "create table profile_events (message_id varchar, profile_id varchar, assignment_reason varchar)"
    )
    connection.executemany(
        "insert into profile_events values (?, ?, ?)", [[m, prof, reasons[m]] for m, _, _, prof in events]
    )
    connection.execute(
        "create table int_events_validated (event_key bigint, message_id varchar, rejection_reason varchar)"
    )
    connection.executemany(
        "insert into int_events_validated values (?, ?, ?)",
        [[number, m, None] for number, (m, _, _, _) in enumerate(events)]
        + [[len(events), "m0", "duplicate_message_id"]],
    )
    connection.execute("create table int_event_identifiers (event_key bigint, identifier_key bigint)")
    connection.executemany(
        "insert into int_event_identifiers values (?, ?)",
        [[number, key] for number, (_, _, key, _) in enumerate(events)],
    )
    connection.execute("create table int_identifiers_stitched (identifier_key bigint, profile_id varchar)")
    connection.executemany("insert into int_identifiers_stitched values (?, ?)", [[k, p] for k, _, p in identifiers])
    truth = tmp_path / "truth.csv"
    with truth.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message_id", "person"])
        writer.writerows([m, person] for m, person, _, _ in events)
        writer.writerow(["never-loaded", people[0]])

    accuracy = measure(connection, truth)
    connection.close()

    expected_events = brute_force([(prof, person) for _, person, _, prof in events])
    got_events = accuracy.events
    assert (got_events.predicted_pairs, got_events.true_pairs, got_events.correct_pairs) == expected_events
    assert got_events.items == len(events)
    assert accuracy.events_without_profile == 1

    carriers: dict[int, set[str]] = {}
    for _, person, key, _ in events:
        carriers.setdefault(key, set()).add(person)
    owned = [(prof, next(iter(carriers[key]))) for key, _, prof in identifiers if len(carriers.get(key, ())) == 1]
    got_identifiers = accuracy.identifiers
    expected_identifiers = brute_force(owned)
    assert (got_identifiers.predicted_pairs, got_identifiers.true_pairs, got_identifiers.correct_pairs) == (
        expected_identifiers
    )
    assert accuracy.shared_identifiers == sum(1 for people_of in carriers.values() if len(people_of) > 1)
    profile_people: dict[str, set[str]] = {}
    person_profiles: dict[str, set[str]] = {}
    for prof, person in owned:
        profile_people.setdefault(prof, set()).add(person)
        person_profiles.setdefault(person, set()).add(prof)
    assert accuracy.over_merged_profiles == sum(1 for found in profile_people.values() if len(found) > 1)
    assert accuracy.split_people == sum(1 for found in person_profiles.values() if len(found) > 1)
    # by reason: the events each reason decided, and those on their person's main profile (most events,
    # then the smallest id)
    per_person: dict[str, Counter] = {}
    for _, person, _, prof in events:
        per_person.setdefault(person, Counter())[prof] += 1
    main = {person: min(counts, key=lambda prof: (-counts[prof], prof)) for person, counts in per_person.items()}
    expected_by_reason: dict[str, list[int]] = {}
    for message_id, person, _, prof in events:
        tally = expected_by_reason.setdefault(reasons[message_id], [0, 0])
        tally[0] += 1
        tally[1] += prof == main[person]
    assert accuracy.events_by_reason == {reason: tuple(tally) for reason, tally in expected_by_reason.items()}
    if expected_events[0]:
        assert got_events.precision == pytest.approx(expected_events[2] / expected_events[0])
