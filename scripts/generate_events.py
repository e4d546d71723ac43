"""Synthetic Segment events with a known person behind every event, one file per day.

Deterministic from --seed. People have one to three devices (iOS, Android, web) and one or two apps
on each phone (each app install has its own anonymousId), browse anonymously before they log in
(identify with userId and email; some installs also send alias), come back over the days, join
groups (accounts), change their email, and clear cookies. The hard cases an identity graph must not
get wrong are mixed in: family tablets shared by two people, store kiosks (one web browser that many
people log in on), placeholder anonymousIds and device ids from buggy SDKs, events sent twice (the
same messageId again, the same day or the next), and events that arrive days late (offline queues:
written into a later day's file with their original timestamp).

The truth is written beside the events: truth.csv (message_id, person), one row per message.

    python scripts/generate_events.py --people 20000 --days 100 --out build/events [--seed 1]
    python scripts/generate_events.py --events 1000000 --out build/events-1m --format parquet
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

START = datetime(2024, 1, 1, tzinfo=UTC)
SCREENS = ["Home", "Search", "Product", "Cart", "Checkout", "Workouts"]
EVENTS = ["Product Viewed", "Product Added", "Order Completed", "Workout Started", "Search Performed"]
APPS = ["SegKicks", "SegRuns"]
PLACEHOLDER_ANONYMOUS_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_DEVICE_ID = "0000000000000000"
# Average events a person sends on a day they are active, for --events (measured on the default mix).
EVENTS_PER_ACTIVE_DAY = 3.35
PARQUET_COLUMNS = {
    "messageId": "VARCHAR",
    "type": "VARCHAR",
    "timestamp": "VARCHAR",
    "userId": "VARCHAR",
    "anonymousId": "VARCHAR",
    "previousId": "VARCHAR",
    "groupId": "VARCHAR",
    "event": "VARCHAR",
    "name": "VARCHAR",
    "traits": "JSON",
    "properties": "JSON",
    "context": "JSON",
}


@dataclass
class Install:
    """One app on one device (or one browser): what an anonymousId belongs to."""

    kind: str
    device_id: str | None
    app: str | None
    anonymous_id: str
    logged_in: bool = False
    sends_alias: bool = False
    asks_who_is_using: bool = False  # a family app: every session starts with choosing a profile


@dataclass
class Person:
    number: int
    installs: list[Install] = field(default_factory=list)
    email_changed_on: int | None = None
    group_id: str | None = None

    @property
    def user_id(self) -> str:
        return f"user-{self.number:07d}"

    def email(self, day: int) -> str:
        if self.email_changed_on is not None and day >= self.email_changed_on:
            return f"person{self.number}.new@example.com"
        return f"person{self.number}@example.com"


class Generator:
    def __init__(self, people: int, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.days = days
        self.accounts = max(1, people // 20)
        self.crowd = [self._person(number) for number in range(people)]
        self._share_family_tablets()
        self.kiosks = [Install("web", None, None, self._uuid(), logged_in=True) for _ in range(max(1, people // 2_000))]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def _person(self, number: int) -> Person:
        rng = self.rng
        person = Person(number)
        for kind in rng.sample(["ios", "android", "web"], k=rng.choice([1, 2, 2, 3])):
            if kind == "web":
                person.installs.append(Install(kind, None, None, self._uuid()))
                continue
            device_id = f"{kind}-{self._uuid()}"
            for app in rng.sample(APPS, k=rng.choice([1, 1, 2])):
                person.installs.append(Install(kind, device_id, app, self._uuid(), sends_alias=rng.random() < 0.2))
        if rng.random() < 0.03:
            person.email_changed_on = rng.randrange(1, max(2, self.days))
        if rng.random() < 0.1:
            person.group_id = f"account-{rng.randrange(self.accounts)}"
        return person

    def _share_family_tablets(self) -> None:
        """1% of people share a tablet with another: the same device id, an app install each, and
        a family app that asks who is using it (so each install logs in on its first session)."""
        for first, second in zip(self.crowd[0::200], self.crowd[1::200], strict=False):
            device_id = f"ios-family-{first.number}"
            for person in (first, second):
                person.installs.append(Install("ios", device_id, APPS[0], self._uuid(), asks_who_is_using=True))

    def day(self, day: int, sessions_per_day: float) -> Iterator[tuple[dict, int]]:
        """(event, person) for every event that happens on `day`, in time order per session."""
        rng = self.rng
        active = rng.sample(self.crowd, k=min(len(self.crowd), int(len(self.crowd) * sessions_per_day)))
        for person in active:
            at = START + timedelta(days=day, seconds=rng.randrange(86_400))
            if rng.random() < 0.02:
                install = rng.choice(self.kiosks)
                yield from ((event, person.number) for event in self._kiosk_session(person, install, at, day))
                continue
            install = rng.choice(person.installs)
            if install.kind == "web" and install.logged_in and rng.random() < 0.03:
                install.anonymous_id, install.logged_in = self._uuid(), False  # cleared cookies
            yield from ((event, person.number) for event in self._session(person, install, at, day))

    def _context(self, install: Install) -> dict:
        context: dict = {"library": {"name": f"analytics-{install.kind}"}}
        if install.device_id:
            buggy = install.kind == "android" and self.rng.random() < 0.003
            context["device"] = {"id": PLACEHOLDER_DEVICE_ID if buggy else install.device_id, "type": install.kind}
            context["app"] = {"name": install.app}
        return context

    def _session(self, person: Person, install: Install, at: datetime, day: int) -> Iterator[dict]:
        rng = self.rng
        anonymous_id = PLACEHOLDER_ANONYMOUS_ID if rng.random() < 0.005 else install.anonymous_id
        context = self._context(install)
        if not install.logged_in and install.asks_who_is_using:
            yield from self._log_in(person, install, anonymous_id, context, at, day)
        elif not install.logged_in:
            for _ in range(rng.randrange(1, 4)):
                at += timedelta(seconds=rng.randrange(5, 300))
                yield self._call(at, {"anonymousId": anonymous_id}, context, install.kind)
            if rng.random() < 0.4:
                return  # leaves without logging in this time
            at += timedelta(seconds=30)
            yield from self._log_in(person, install, anonymous_id, context, at, day)
        ids = {"anonymousId": anonymous_id, "userId": person.user_id}
        for _ in range(rng.randrange(1, 6)):
            at += timedelta(seconds=rng.randrange(5, 600))
            yield self._call(at, ids, context, install.kind)
        if person.group_id and rng.random() < 0.05:
            yield {"type": "group", "groupId": person.group_id, **ids, "context": context, "timestamp": iso(at)}

    def _kiosk_session(self, person: Person, kiosk: Install, at: datetime, day: int) -> Iterator[dict]:
        """A store kiosk: one browser (one anonymousId) that many people log in on."""
        context = self._context(kiosk)
        yield self._call(at, {"anonymousId": kiosk.anonymous_id}, context, kiosk.kind)
        yield from self._log_in(person, kiosk, kiosk.anonymous_id, context, at + timedelta(seconds=20), day)
        yield self._call(
            at + timedelta(seconds=60), {"anonymousId": kiosk.anonymous_id, "userId": person.user_id}, context, "web"
        )

    def _log_in(
        self, person: Person, install: Install, anonymous_id: str, context: dict, at: datetime, day: int
    ) -> Iterator[dict]:
        install.logged_in = True
        yield {
            "type": "identify",
            "userId": person.user_id,
            "anonymousId": anonymous_id,
            "traits": {"email": person.email(day), "plan": self.rng.choice(["free", "plus", "pro"])},
            "context": context,
            "timestamp": iso(at),
        }
        if install.sends_alias:
            yield {
                "type": "alias",
                "previousId": anonymous_id,
                "userId": person.user_id,
                "context": context,
                "timestamp": iso(at + timedelta(seconds=1)),
            }

    def _call(self, at: datetime, ids: dict, context: dict, kind: str) -> dict:
        rng = self.rng
        if kind == "web":
            return {"type": "page", "name": rng.choice(SCREENS), **ids, "context": context, "timestamp": iso(at)}
        if rng.random() < 0.3:
            return {"type": "screen", "name": rng.choice(SCREENS), **ids, "context": context, "timestamp": iso(at)}
        event = rng.choice(EVENTS)
        properties = {"price": round(rng.uniform(5, 200), 2)} if event.startswith(("Product", "Order")) else {}
        return {
            "type": "track",
            "event": event,
            "properties": properties,
            **ids,
            "context": context,
            "timestamp": iso(at),
        }


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def people_for(events: int, days: int, sessions_per_day: float) -> int:
    """How many people give about `events` events over `days` days."""
    return max(1, round(events / (days * sessions_per_day * EVENTS_PER_ACTIVE_DAY)))


def generate(people: int, days: int, out: Path, seed: int, file_format: str, sessions_per_day: float) -> int:
    """Write the day files and truth.csv; returns the number of event lines written (copies included)."""
    generator = Generator(people, days, seed)
    rng = random.Random(seed + 1)  # late and repeated events, apart from the people's behaviour
    out.mkdir(parents=True, exist_ok=True)
    delayed: dict[int, list[dict]] = {}
    written = 0
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as truth_file:
        truth = csv.writer(truth_file)
        truth.writerow(["message_id", "person"])
        for day in range(days):
            lines = [json.dumps(event, separators=(",", ":")) for event in delayed.pop(day, [])]
            for event, person in generator.day(day, sessions_per_day):
                event["messageId"] = str(uuid.UUID(int=rng.getrandbits(128)))
                truth.writerow([event["messageId"], person])
                text = json.dumps(event, separators=(",", ":"))
                roll = rng.random()
                if roll < 0.01 and day + 1 < days:  # offline: arrives 1-3 days late
                    delayed.setdefault(min(days - 1, day + rng.randint(1, 3)), []).append(event)
                    continue
                lines.append(text)
                if roll > 0.995:  # a retry: the same message again, the same day or the next
                    target = day if roll > 0.9975 or day + 1 == days else day + 1
                    if target == day:
                        lines.append(text)
                    else:
                        delayed.setdefault(target, []).append(event)
            write_day(out, f"day-{day:04d}", lines, file_format)
            written += len(lines)
    return written


def write_day(out: Path, stem: str, lines: list[str], file_format: str) -> None:
    text = "".join(line + "\n" for line in lines)
    if file_format == "ndjson":
        (out / f"{stem}.ndjson").write_text(text, encoding="utf-8")
    elif file_format == "ndjson.gz":
        with gzip.open(out / f"{stem}.ndjson.gz", "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        write_parquet(out / f"{stem}.parquet", text)


def write_parquet(path: Path, ndjson: str) -> None:
    """One row per event: top-level fields as text columns, traits/properties/context as JSON."""
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", encoding="utf-8") as staged:
        staged.write(ndjson)
        staged.flush()
        connection = duckdb.connect()
        try:
            columns = ", ".join(f"'{name}': '{kind}'" for name, kind in PARQUET_COLUMNS.items())
            connection.execute(
                f"copy (select * from read_json(?, format = 'newline_delimited', columns = {{{columns}}})) "
                f"to '{path}' (format parquet)",
                [staged.name],
            )
        finally:
            connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--people", type=int, help="how many people (default 20000)")
    size.add_argument("--events", type=int, help="about how many events in all (sets --people)")
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--sessions-per-day", type=float, default=0.2, help="share of people active each day")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=["ndjson", "ndjson.gz", "parquet"], default="ndjson")
    parser.add_argument("--gzip", action="store_true", help="same as --format ndjson.gz")
    args = parser.parse_args()
    people = args.people or 20_000
    if args.events:
        people = people_for(args.events, args.days, args.sessions_per_day)
    file_format = "ndjson.gz" if args.gzip else args.format
    count = generate(people, args.days, args.out, args.seed, file_format, args.sessions_per_day)
    print(f"{count:,} events from {people:,} people in {args.days} daily {file_format} files under {args.out}")


if __name__ == "__main__":
    main()
