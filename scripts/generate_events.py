"""Synthetic Segment events with a known person behind every event, one NDJSON file per day.

People have one to three devices (iOS, Android, web), browse anonymously, log in (identify with
userId and email), and come back over the days; some share a family tablet, some SDKs send placeholder
anonymous ids, and some events arrive days late (offline queues: written into a later day's file with
their original timestamp). The truth (message_id, person) is written beside the events.

    python scripts/generate_events.py --people 20000 --days 100 --out build/events [--seed 1] [--gzip]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

START = datetime(2024, 1, 1, tzinfo=UTC)
SCREENS = ["Home", "Search", "Product", "Cart", "Checkout", "Workouts"]
EVENTS = ["Product Viewed", "Product Added", "Order Completed", "Workout Started", "Search Performed"]
PLACEHOLDER_ANONYMOUS_ID = "00000000-0000-0000-0000-000000000000"


@dataclass
class Device:
    kind: str
    device_id: str | None
    anonymous_id: str
    logged_in: bool = False


@dataclass
class Person:
    number: int
    devices: list[Device] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return f"user-{self.number:07d}"

    @property
    def email(self) -> str:
        return f"person{self.number}@example.com"


def make_people(rng: random.Random, count: int) -> list[Person]:
    people = []
    for number in range(count):
        person = Person(number)
        for kind in rng.sample(["ios", "android", "web"], k=rng.choice([1, 2, 2, 3])):
            device_id = None if kind == "web" else f"{kind}-{uuid.UUID(int=rng.getrandbits(128))}"
            person.devices.append(Device(kind, device_id, str(uuid.UUID(int=rng.getrandbits(128)))))
        people.append(person)
    for first, second in zip(people[0::200], people[1::200], strict=False):  # 1% share a family tablet
        tablet = Device("ios", f"ios-family-{first.number}", "")
        for person in (first, second):
            person.devices.append(Device("ios", tablet.device_id, str(uuid.UUID(int=rng.getrandbits(128)))))
    return people


def session(rng: random.Random, person: Person, day: int) -> Iterator[dict]:
    device = rng.choice(person.devices)
    at = START + timedelta(days=day, seconds=rng.randrange(86_400))
    anonymous_id = PLACEHOLDER_ANONYMOUS_ID if rng.random() < 0.005 else device.anonymous_id
    context = {"library": {"name": f"analytics-{device.kind}"}}
    if device.device_id:
        context["device"] = {"id": device.device_id, "type": device.kind}
        context["app"] = {"name": rng.choice(["SegKicks", "SegRuns"])}
    if not device.logged_in and rng.random() < 0.6:
        for _ in range(rng.randrange(1, 4)):
            at += timedelta(seconds=rng.randrange(5, 300))
            yield call(rng, at, {"anonymousId": anonymous_id}, context, device.kind)
        device.logged_in = True
        yield {
            "type": "identify",
            "userId": person.user_id,
            "anonymousId": anonymous_id,
            "traits": {"email": person.email, "plan": rng.choice(["free", "plus", "pro"])},
            "context": context,
            "timestamp": iso(at + timedelta(seconds=30)),
        }
    ids = {"anonymousId": anonymous_id, **({"userId": person.user_id} if device.logged_in else {})}
    for _ in range(rng.randrange(1, 6)):
        at += timedelta(seconds=rng.randrange(5, 600))
        yield call(rng, at, ids, context, device.kind)


def call(rng: random.Random, at: datetime, ids: dict, context: dict, kind: str) -> dict:
    if kind == "web":
        return {"type": "page", "name": rng.choice(SCREENS), **ids, "context": context, "timestamp": iso(at)}
    if rng.random() < 0.3:
        return {"type": "screen", "name": rng.choice(SCREENS), **ids, "context": context, "timestamp": iso(at)}
    return {"type": "track", "event": rng.choice(EVENTS), **ids, "context": context, "timestamp": iso(at)}


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def generate(people: int, days: int, out: Path, seed: int, compress: bool, sessions_per_day: float) -> int:
    rng = random.Random(seed)
    crowd = make_people(rng, people)
    out.mkdir(parents=True, exist_ok=True)
    late: dict[int, list[tuple[dict, int]]] = {}
    written = 0
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as truth_file:
        truth = csv.writer(truth_file)
        truth.writerow(["message_id", "person"])
        for day in range(days):
            suffix = ".ndjson.gz" if compress else ".ndjson"
            opener = gzip.open if compress else open
            with opener(out / f"day-{day:04d}{suffix}", "wt", encoding="utf-8") as handle:
                for event, number in late.pop(day, []):
                    written += emit(handle, truth, event, number)
                for person in rng.sample(crowd, k=min(len(crowd), int(len(crowd) * sessions_per_day))):
                    for event in session(rng, person, day):
                        event["messageId"] = str(uuid.UUID(int=rng.getrandbits(128)))
                        if rng.random() < 0.01 and day + 1 < days:  # offline: arrives 1-3 days late
                            late.setdefault(min(days - 1, day + rng.randint(1, 3)), []).append((event, person.number))
                            continue
                        written += emit(handle, truth, event, person.number)
    return written


def emit(handle: IO[str], truth: csv.writer, event: dict, person: int) -> int:
    handle.write(json.dumps(event, separators=(",", ":")) + "\n")
    truth.writerow([event["messageId"], person])
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--sessions-per-day", type=float, default=0.2, help="share of people active each day")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    count = generate(args.people, args.days, args.out, args.seed, args.gzip, args.sessions_per_day)
    print(f"{count:,} events in {args.days} daily files under {args.out}")


if __name__ == "__main__":
    main()
