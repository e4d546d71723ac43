"""Write the demo seeds (seeds/*.csv): Segment warehouse tables for the SegKicks/SegRuns story.

Jane Doe's journey from Segment's identity-resolution guide comes first, then a deterministic crowd
of people with several devices each, anonymous visits before login, web aliases, group calls and a
handful of rows the pipeline must reject. Re-running the script rewrites the same files.

    idr-demo-seeds [--people 300] [--seed 7] [--out seeds]
"""

from __future__ import annotations

import argparse
import csv
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from idr.dbt_invoke import PROJECT_DIR

TABLE_COLUMNS: dict[str, list[str]] = {
    "identifies": [
        "id",
        "anonymous_id",
        "user_id",
        "email",
        "name",
        "plan",
        "context_app_name",
        "context_device_id",
        "context_device_type",
        "context_library_name",
        "timestamp",
        "received_at",
    ],
    "tracks": [
        "id",
        "anonymous_id",
        "user_id",
        "event",
        "event_text",
        "context_app_name",
        "context_device_id",
        "context_device_type",
        "context_library_name",
        "timestamp",
        "received_at",
    ],
    "pages": [
        "id",
        "anonymous_id",
        "user_id",
        "name",
        "path",
        "url",
        "title",
        "context_library_name",
        "timestamp",
        "received_at",
    ],
    "screens": [
        "id",
        "anonymous_id",
        "user_id",
        "name",
        "context_app_name",
        "context_device_id",
        "context_device_type",
        "context_library_name",
        "timestamp",
        "received_at",
    ],
    "aliases": ["id", "previous_id", "user_id", "context_library_name", "timestamp", "received_at"],
    "groups": [
        "id",
        "anonymous_id",
        "user_id",
        "group_id",
        "name",
        "industry",
        "context_library_name",
        "timestamp",
        "received_at",
    ],
}

START = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena"]
LAST_NAMES = ["Ng", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Usman", "Varga", "Weber"]
SHOES = ["ShoeA", "ShoeB", "ShoeC", "ShoeD", "ShoeE"]
PAGES = [("Home", "/"), ("Sale", "/sale"), ("Running", "/running"), ("Cart", "/cart")]


@dataclass
class Tables:
    """Rows of every table, with a deterministic message-id generator."""

    rng: random.Random
    rows: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {t: [] for t in TABLE_COLUMNS})

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, table: str, at: datetime, **values: str) -> dict[str, str]:
        row = {column: "" for column in TABLE_COLUMNS[table]}
        row.update(id=self.uid(), timestamp=iso(at), received_at=iso(at + timedelta(seconds=2)))
        row.update(values)
        self.rows[table].append(row)
        return row


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def add_jane(tables: Tables) -> None:
    """Jane Doe: anonymous on her iPhone, registers at checkout, then Android, then the SegRuns app."""
    at = datetime(2023, 3, 1, 9, 0, tzinfo=UTC)
    iphone = dict(
        context_app_name="SegKicks",
        context_device_id="ios_abc123",
        context_device_type="ios",
        context_library_name="analytics-ios",
    )
    android = dict(
        context_device_id="and_1a2b3c4d", context_device_type="android", context_library_name="analytics-android"
    )
    tables.add("tracks", at, anonymous_id="anon_123", event="App Opened", **iphone)
    for minute, shoe in enumerate(["ShoeA", "ShoeB", "ShoeC"], start=1):
        tables.add("tracks", at + timedelta(minutes=minute), anonymous_id="anon_123", event=f"{shoe} Clicked", **iphone)
    tables.add("tracks", at + timedelta(minutes=5), anonymous_id="anon_123", event="Product Added", **iphone)
    tables.add(
        "identifies",
        at + timedelta(minutes=7),
        anonymous_id="anon_123",
        user_id="abc123def",
        email="janedoe@example.com",
        name="Jane Doe",
        plan="free",
        **iphone,
    )
    tables.add(
        "tracks",
        at + timedelta(minutes=8),
        anonymous_id="anon_123",
        user_id="abc123def",
        event="Order Completed",
        **iphone,
    )
    at = datetime(2023, 3, 4, 18, 30, tzinfo=UTC)
    tables.add(
        "identifies",
        at,
        anonymous_id="anon_456",
        user_id="abc123def",
        email="janedoe@example.com",
        context_app_name="SegKicks",
        **android,
    )
    tables.add(
        "screens",
        at + timedelta(minutes=1),
        anonymous_id="anon_456",
        user_id="abc123def",
        name="Home",
        context_app_name="SegKicks",
        **android,
    )
    at = datetime(2023, 3, 9, 7, 15, tzinfo=UTC)
    tables.add("identifies", at, anonymous_id="anon_789", user_id="abc123def", context_app_name="SegRuns", **android)
    tables.add(
        "tracks",
        at + timedelta(minutes=3),
        anonymous_id="anon_789",
        user_id="abc123def",
        event="Workout Viewed",
        context_app_name="SegRuns",
        **android,
    )
    tables.add(
        "groups",
        at + timedelta(minutes=4),
        anonymous_id="anon_789",
        user_id="abc123def",
        group_id="club_sf_runners",
        name="SF Runners",
        industry="Sports",
        context_library_name="analytics-android",
    )


def add_person(tables: Tables, number: int) -> None:
    """One demo person: 1-3 devices, anonymous activity, usually a login on each device."""
    rng = tables.rng
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    user_id = f"user_{number:04d}"
    email = f"{first}.{last}.{number}@example.com".lower()
    at = START + timedelta(days=rng.randrange(150), minutes=rng.randrange(1440))
    for kind in rng.sample(["ios", "android", "web"], k=rng.choice([1, 2, 2, 3])):
        anonymous_id = tables.uid()
        logs_in = rng.random() < 0.8
        at += timedelta(hours=rng.randrange(1, 72))
        if kind == "web":
            device = dict(context_library_name="analytics.js")
            for _ in range(rng.randrange(1, 4)):
                name, path = rng.choice(PAGES)
                at += timedelta(minutes=rng.randrange(1, 30))
                tables.add(
                    "pages",
                    at,
                    anonymous_id=anonymous_id,
                    name=name,
                    path=path,
                    url=f"https://segkicks.example{path}",
                    title=f"SegKicks - {name}",
                    **device,
                )
            if logs_in:
                at += timedelta(minutes=2)
                tables.add(
                    "identifies",
                    at,
                    anonymous_id=anonymous_id,
                    user_id=user_id,
                    email=email,
                    name=f"{first} {last}",
                    plan=rng.choice(["free", "plus"]),
                    **device,
                )
                tables.add("aliases", at, previous_id=anonymous_id, user_id=user_id, **device)
                tables.add(
                    "tracks",
                    at + timedelta(minutes=1),
                    anonymous_id=anonymous_id,
                    user_id=user_id,
                    event="Signed In",
                    **device,
                )
            continue
        app = rng.choice(["SegKicks", "SegRuns"])
        device = dict(
            context_app_name=app,
            context_device_id=f"{kind[:3]}_{tables.uid()[:12]}",
            context_device_type=kind,
            context_library_name=f"analytics-{kind}",
        )
        tables.add("tracks", at, anonymous_id=anonymous_id, event="App Opened", **device)
        for _ in range(rng.randrange(1, 4)):
            at += timedelta(minutes=rng.randrange(1, 20))
            tables.add("tracks", at, anonymous_id=anonymous_id, event=f"{rng.choice(SHOES)} Clicked", **device)
        if not logs_in:
            continue
        at += timedelta(minutes=3)
        tables.add(
            "identifies", at, anonymous_id=anonymous_id, user_id=user_id, email=email, name=f"{first} {last}", **device
        )
        for _ in range(rng.randrange(0, 3)):
            at += timedelta(minutes=rng.randrange(1, 60))
            tables.add(
                "screens",
                at,
                anonymous_id=anonymous_id,
                user_id=user_id,
                name=rng.choice(["Home", "Cart", "Workouts"]),
                **device,
            )
        if rng.random() < 0.3:
            tables.add(
                "tracks",
                at + timedelta(minutes=5),
                anonymous_id=anonymous_id,
                user_id=user_id,
                event="Order Completed",
                **device,
            )
    if rng.random() < 0.1:
        tables.add(
            "groups",
            at + timedelta(days=1),
            user_id=user_id,
            group_id=f"team_{number % 7}",
            name=f"Team {number % 7}",
            industry="Retail",
            context_library_name="analytics.js",
        )


def add_shared_devices(tables: Tables) -> None:
    """A family iPad two people log in on, and a store kiosk where customers sign in: the devices must
    not fuse their users into one profile (merge protection)."""
    ipad = dict(
        context_app_name="SegKicks",
        context_device_id="ios_rivera_family_ipad",
        context_device_type="ios",
        context_library_name="analytics-ios",
    )
    at = datetime(2023, 4, 10, 19, 0, tzinfo=UTC)
    for day, (user_id, name) in enumerate([("user_sam_rivera", "Sam Rivera"), ("user_alex_rivera", "Alex Rivera")]):
        session = tables.uid()
        when = at + timedelta(days=2 * day)
        tables.add("tracks", when, anonymous_id=session, event="App Opened", **ipad)
        tables.add(
            "identifies",
            when + timedelta(minutes=1),
            anonymous_id=session,
            user_id=user_id,
            email=f"{user_id[5:].replace('_', '.')}@example.com",
            name=name,
            **ipad,
        )
        phone = dict(
            context_app_name="SegKicks",
            context_device_id=f"and_{user_id[5:]}_phone",
            context_device_type="android",
            context_library_name="analytics-android",
        )
        tables.add("identifies", when + timedelta(hours=3), anonymous_id=tables.uid(), user_id=user_id, **phone)
    kiosk = dict(
        context_app_name="SegKicks Store",
        context_device_id="and_store_kiosk_01",
        context_device_type="android",
        context_library_name="analytics-android",
    )
    at = datetime(2023, 5, 6, 10, 0, tzinfo=UTC)
    for number in range(1, 5):
        when = at + timedelta(hours=5 * number)
        session = tables.uid()
        tables.add("identifies", when, anonymous_id=session, user_id=f"user_{number:04d}", **kiosk)
        tables.add(
            "tracks",
            when + timedelta(minutes=4),
            anonymous_id=session,
            user_id=f"user_{number:04d}",
            event="Order Completed",
            **kiosk,
        )


def add_rejects(tables: Tables) -> None:
    """Rows a real warehouse holds and the pipeline must keep out, each with a reason."""
    at = datetime(2023, 6, 30, 12, 0, tzinfo=UTC)
    original = tables.rows["tracks"][1]
    tables.rows["tracks"].append(dict(original))  # the SDK retried: the same messageId twice
    tables.add("tracks", at, event="Server Ping", context_library_name="analytics-node")  # no ids at all
    tables.add(
        "tracks",
        at,
        anonymous_id="00000000-0000-0000-0000-000000000000",
        event="App Opened",
        context_library_name="analytics-ios",
    )  # only a placeholder id
    tables.add(
        "pages",
        at,
        anonymous_id=tables.uid(),
        name="Home",
        path="/",
        timestamp="yesterday",
        received_at="",
        context_library_name="analytics.js",
    )  # unparseable time


def build(people: int, seed: int) -> Tables:
    tables = Tables(rng=random.Random(seed))
    add_jane(tables)
    for number in range(1, people + 1):
        add_person(tables, number)
    add_shared_devices(tables)
    add_rejects(tables)
    return tables


def write(tables: Tables, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for table, columns in TABLE_COLUMNS.items():
        rows = sorted(tables.rows[table], key=lambda row: (row["timestamp"], row["id"]))
        with (out / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "seeds")
    args = parser.parse_args()
    write(build(args.people, args.seed), args.out)


if __name__ == "__main__":
    main()
