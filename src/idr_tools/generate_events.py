"""Synthetic Segment events with a known person behind every event, one file per day.

Deterministic from --seed. People have one to three devices (iOS, Android, web) and one or two apps
on each phone (each app install has its own anonymousId), browse anonymously before they log in
(identify with userId and email; some installs also send alias), come back over the days, join
groups (accounts), change their email, and clear cookies. The hard cases an identity graph must not
get wrong are mixed in: family tablets shared by two people (each browsing anonymously in their own
app install before logging in), store kiosks (one web browser that many people log in on, a page view
before each login), placeholder anonymousIds and device ids from buggy SDKs, events sent twice (the
same messageId again, the same day or the next), and events that arrive days late (offline queues:
written into a later day's file with their original timestamp).

The truth is written beside the events: truth.csv (message_id, person), one row per message.

Large populations are split into shards: disjoint groups of people (their own user ids, emails,
devices, anonymousIds, kiosks, accounts and messageIds), each from its own seed derived from --seed,
generated in parallel processes (--jobs) and written as one file per day and shard
(day-0037-part-2.ndjson). The files depend on --seed, the size and --shards, never on --jobs. By
default a shard holds up to 250,000 people (about 16.7 million events over 100 days), so up to that
size there is one shard and the files are named day-0037.ndjson.

    idr-generate --people 20000 --days 100 --out build/events [--seed 1]
    idr-generate --events 1000000 --out build/events-1m --format parquet
    idr-generate --events 100000000 --out build/events-100m --format ndjson.gz --jobs 2
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import multiprocessing
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

START = datetime(2024, 1, 1, tzinfo=UTC)
SECONDS_PER_DAY = 86_400
SCREENS = ["Home", "Search", "Product", "Cart", "Checkout", "Workouts"]
EVENTS = ["Product Viewed", "Product Added", "Order Completed", "Workout Started", "Search Performed"]
APPS = ["SegKicks", "SegRuns"]
PLACEHOLDER_ANONYMOUS_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_DEVICE_ID = "0000000000000000"
# Average events a person sends on a day they are active, for --events (measured on the default mix).
EVENTS_PER_ACTIVE_DAY = 3.35
PEOPLE_PER_SHARD = 250_000
GZIP_LEVEL = 3  # a quarter of the time of gzip's default (9), for 17 % more bytes
TRUTH_HEADER = "message_id,person\r\n"
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
CLOCK = tuple(
    f"{hour:02d}:{minute:02d}:{second:02d}" for hour in range(24) for minute in range(60) for second in range(60)
)
ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


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


@dataclass(frozen=True)
class Shard:
    """A disjoint part of the population: people first_person .. first_person + people - 1."""

    number: int
    count: int
    first_person: int
    people: int

    def seeds(self, seed: int) -> tuple[int | str, int | str]:
        """The seeds of the people's behaviour and of the messages (ids, late and repeated events).
        A run of one shard keeps the seeds of the unsharded generator: seed and seed + 1."""
        if self.count == 1:
            return seed, seed + 1
        return f"{seed}/shard-{self.number}", f"{seed}/shard-{self.number}/messages"

    def stem(self, day: int) -> str:
        """The name of this shard's file for `day`, without suffix."""
        if self.count == 1:
            return f"day-{day:04d}"
        return f"day-{day:04d}-part-{self.number + 1:0{len(str(self.count))}d}"


def split(people: int, shards: int) -> list[Shard]:
    """`people` split into `shards` consecutive ranges of (nearly) equal size."""
    count = max(1, min(shards, people))
    bounds = [people * number // count for number in range(count + 1)]
    return [Shard(number, count, bounds[number], bounds[number + 1] - bounds[number]) for number in range(count)]


def default_shards(people: int) -> int:
    """One shard per PEOPLE_PER_SHARD people (or part of it)."""
    return max(1, -(-people // PEOPLE_PER_SHARD))


def day_of(path: Path) -> int:
    """The day a generated file holds (day-0037.ndjson and day-0037-part-2.ndjson: 37)."""
    return int(path.name[4:8])


def uuid_text(bits: int) -> str:
    """A 128-bit number written as a UUID (what str(uuid.UUID(int=bits)) gives)."""
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


@functools.cache
def _date(day: int) -> str:
    return (START + timedelta(days=day)).strftime("%Y-%m-%d")


def iso(seconds: int) -> str:
    """The Segment timestamp of a whole second after START (2024-01-01T00:00:20.000Z)."""
    day, second = divmod(seconds, SECONDS_PER_DAY)
    return f"{_date(day)}T{CLOCK[second]}.000Z"


class Generator:
    def __init__(self, people: int, days: int, seed: int | str, first_person: int = 0) -> None:
        self.rng = random.Random(seed)
        self.days = days
        self.accounts = max(1, people // 20)
        self.first_account = first_person  # accounts are numbered within the shard's range of people
        self.crowd = [self._person(number) for number in range(first_person, first_person + people)]
        self._share_family_tablets()
        self.kiosks = [Install("web", None, None, self._uuid(), logged_in=True) for _ in range(max(1, people // 2_000))]

    def _uuid(self) -> str:
        return uuid_text(self.rng.getrandbits(128))

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
            person.group_id = f"account-{self.first_account + rng.randrange(self.accounts)}"
        return person

    def _share_family_tablets(self) -> None:
        """1% of people share a tablet with another: the same device id, an app install each, and
        a family app that asks who is using it (each install browses anonymously on its first session,
        then logs in)."""
        for first, second in zip(self.crowd[0::200], self.crowd[1::200], strict=False):
            device_id = f"ios-family-{first.number}"
            for person in (first, second):
                person.installs.append(Install("ios", device_id, APPS[0], self._uuid(), asks_who_is_using=True))

    def day(self, day: int, sessions_per_day: float) -> Iterator[tuple[dict, int]]:
        """(event, person) for every event that happens on `day`, in time order per session."""
        rng = self.rng
        active = rng.sample(self.crowd, k=min(len(self.crowd), int(len(self.crowd) * sessions_per_day)))
        for person in active:
            at = day * SECONDS_PER_DAY + rng.randrange(SECONDS_PER_DAY)
            if rng.random() < 0.02:
                install = rng.choice(self.kiosks)
                for event in self._kiosk_session(person, install, at, day):
                    yield event, person.number
                continue
            install = rng.choice(person.installs)
            if install.kind == "web" and install.logged_in and rng.random() < 0.03:
                install.anonymous_id, install.logged_in = self._uuid(), False  # cleared cookies
            for event in self._session(person, install, at, day):
                yield event, person.number

    def _context(self, install: Install) -> dict:
        context: dict = {"library": {"name": f"analytics-{install.kind}"}}
        if install.device_id:
            buggy = install.kind == "android" and self.rng.random() < 0.003
            context["device"] = {"id": PLACEHOLDER_DEVICE_ID if buggy else install.device_id, "type": install.kind}
            context["app"] = {"name": install.app}
        return context

    def _session(self, person: Person, install: Install, at: int, day: int) -> Iterator[dict]:
        rng = self.rng
        anonymous_id = PLACEHOLDER_ANONYMOUS_ID if rng.random() < 0.005 else install.anonymous_id
        context = self._context(install)
        if not install.logged_in and install.asks_who_is_using:
            # a family tablet: each person browses in their own install before logging in on it
            for _ in range(rng.randrange(1, 4)):
                at += rng.randrange(5, 300)
                yield self._call(at, {"anonymousId": anonymous_id}, context, install.kind)
            at += 30
            yield from self._log_in(person, install, anonymous_id, context, at, day)
        elif not install.logged_in:
            for _ in range(rng.randrange(1, 4)):
                at += rng.randrange(5, 300)
                yield self._call(at, {"anonymousId": anonymous_id}, context, install.kind)
            if rng.random() < 0.4:
                return  # leaves without logging in this time
            at += 30
            yield from self._log_in(person, install, anonymous_id, context, at, day)
        ids = {"anonymousId": anonymous_id, "userId": person.user_id}
        for _ in range(rng.randrange(1, 6)):
            at += rng.randrange(5, 600)
            yield self._call(at, ids, context, install.kind)
        if person.group_id and rng.random() < 0.05:
            yield {"type": "group", "groupId": person.group_id, **ids, "context": context, "timestamp": iso(at)}

    def _kiosk_session(self, person: Person, kiosk: Install, at: int, day: int) -> Iterator[dict]:
        """A store kiosk: one browser (one anonymousId) that many people log in on."""
        context = self._context(kiosk)
        yield self._call(at, {"anonymousId": kiosk.anonymous_id}, context, kiosk.kind)
        yield from self._log_in(person, kiosk, kiosk.anonymous_id, context, at + 20, day)
        yield self._call(at + 60, {"anonymousId": kiosk.anonymous_id, "userId": person.user_id}, context, "web")

    def _log_in(
        self, person: Person, install: Install, anonymous_id: str, context: dict, at: int, day: int
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
                "timestamp": iso(at + 1),
            }

    def _call(self, at: int, ids: dict, context: dict, kind: str) -> dict:
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


def people_for(events: int, days: int, sessions_per_day: float) -> int:
    """How many people give about `events` events over `days` days."""
    return max(1, round(events / (days * sessions_per_day * EVENTS_PER_ACTIVE_DAY)))


@dataclass(frozen=True)
class ShardRun:
    """Everything one process needs to write one shard."""

    shard: Shard
    days: int
    out: Path
    seed: int
    file_format: str
    sessions_per_day: float

    @property
    def truth_path(self) -> Path:
        if self.shard.count == 1:
            return self.out / "truth.csv"
        return self.out / f".truth-part-{self.shard.number + 1}.csv"


def generate(
    people: int,
    days: int,
    out: Path,
    seed: int,
    file_format: str,
    sessions_per_day: float,
    shards: int = 1,
    jobs: int = 1,
) -> int:
    """Write the day files and truth.csv; returns the number of event lines written (copies included).
    The people are split into `shards`, written by `jobs` processes at a time."""
    out.mkdir(parents=True, exist_ok=True)
    runs = [ShardRun(shard, days, out, seed, file_format, sessions_per_day) for shard in split(people, shards)]
    if len(runs) == 1 or jobs <= 1:
        written = [generate_shard(run) for run in runs]
    else:
        with multiprocessing.Pool(min(jobs, len(runs))) as pool:
            written = pool.map(generate_shard, runs, chunksize=1)
    if len(runs) > 1:
        merge_truth(out / "truth.csv", [run.truth_path for run in runs])
    return sum(written)


def generate_shard(run: ShardRun) -> int:
    """Write one shard's day files and its truth; returns the number of event lines written."""
    people_seed, messages_seed = run.shard.seeds(run.seed)
    generator = Generator(run.shard.people, run.days, people_seed, run.shard.first_person)
    rng = random.Random(messages_seed)  # late and repeated events, apart from the people's behaviour
    delayed: dict[int, list[str]] = {}
    written = 0
    with run.truth_path.open("w", newline="", encoding="utf-8") as truth:
        if run.shard.count == 1:
            truth.write(TRUTH_HEADER)
        for day in range(run.days):
            lines, truth_rows = delayed.pop(day, []), []
            for event, person in generator.day(day, run.sessions_per_day):
                event["messageId"] = message_id = uuid_text(rng.getrandbits(128))
                truth_rows.append(f"{message_id},{person}\r\n")
                text = ENCODE(event)
                roll = rng.random()
                if roll < 0.01 and day + 1 < run.days:  # offline: arrives 1-3 days late
                    delayed.setdefault(min(run.days - 1, day + rng.randint(1, 3)), []).append(text)
                    continue
                lines.append(text)
                if roll > 0.995:  # a retry: the same message again, the same day or the next
                    target = day if roll > 0.9975 or day + 1 == run.days else day + 1
                    if target == day:
                        lines.append(text)
                    else:
                        delayed.setdefault(target, []).append(text)
            truth.write("".join(truth_rows))
            write_day(run.out, run.shard.stem(day), lines, run.file_format)
            written += len(lines)
    return written


def merge_truth(path: Path, parts: list[Path]) -> None:
    """truth.csv from the shards' truth files, in shard order; the parts are removed."""
    with path.open("wb") as merged:
        merged.write(TRUTH_HEADER.encode())
        for part in parts:
            with part.open("rb") as handle:
                shutil.copyfileobj(handle, merged, 1 << 24)
            part.unlink()


def write_day(out: Path, stem: str, lines: list[str], file_format: str) -> None:
    data = ("\n".join(lines) + "\n").encode() if lines else b""
    if file_format == "ndjson":
        (out / f"{stem}.ndjson").write_bytes(data)
    elif file_format == "ndjson.gz":
        (out / f"{stem}.ndjson.gz").write_bytes(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))
    else:
        write_parquet(out / f"{stem}.parquet", data)


def write_parquet(path: Path, ndjson: bytes) -> None:
    """One row per event: top-level fields as text columns, traits/properties/context as JSON."""
    with tempfile.NamedTemporaryFile("wb", suffix=".ndjson") as staged:
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
    parser.add_argument(
        "--shards", type=int, help=f"disjoint groups of people (default: one per {PEOPLE_PER_SHARD:,} people)"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="shards written at once (default: one per core)"
    )
    args = parser.parse_args()
    people = args.people or 20_000
    if args.events:
        people = people_for(args.events, args.days, args.sessions_per_day)
    file_format = "ndjson.gz" if args.gzip else args.format
    shards = args.shards or default_shards(people)
    count = generate(people, args.days, args.out, args.seed, file_format, args.sessions_per_day, shards, args.jobs)
    files = f"{args.days} daily {file_format} files" + (f" from each of {shards} shards" if shards > 1 else "")
    print(f"{count:,} events from {people:,} people in {files} under {args.out}")


if __name__ == "__main__":
    main()
