"""Random Segment event streams that exercise the identity rules: shared and placeholder ids,
several emails with messy case and spacing, device ids by type, externalIds, aliases, ties in time,
and crowds (many people, each with anonymous ids of their own, some logging in on shared kiosks).
Each stream uses identifiers of its own (prefixed with the stream number), so that many streams can
be resolved in one build and compared stream by stream."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

PLACEHOLDERS = ["0", "00000000-0000-0000-0000-000000000000", "-1", "unknown", "NULL", "None", " ", ""]
BASE = datetime(2024, 1, 1, tzinfo=UTC)


def stream(number: int, rng: random.Random, events: int) -> list[dict]:
    tag = f"s{number}"
    users = [f"{tag}-user-{i}" for i in range(rng.randint(1, 3))]
    anonymous = [f"{tag}-anon-{i}" for i in range(rng.randint(1, 6))]
    emails = [f"{tag}.person{i}@example.com" for i in range(rng.choice([1, 2, 3, 7, 8]))]
    devices = [(rng.choice(["ios", "android", "iOS", "web"]), f"{tag}-dev-{i}") for i in range(rng.randint(1, 3))]
    # a crowd: more people and events, each person with anonymous ids of their own, and kiosks
    own_anonymous: dict[str, list[str]] = {}
    kiosks: list[str] = []
    if rng.random() < 0.2:
        events *= 3
        users = [f"{tag}-user-{i}" for i in range(rng.randint(4, 9))]
        own_anonymous = {user: [f"{user}-anon-{j}" for j in range(rng.randint(1, 3))] for user in users}
        kiosks = [f"{tag}-kiosk-{i}" for i in range(rng.randint(1, 2))]

    def maybe_placeholder(value: str) -> str:
        return rng.choice(PLACEHOLDERS) if rng.random() < 0.08 else value

    def messy_email() -> str:
        email = rng.choice(emails)
        return rng.choice([email, email.upper(), f"  {email} ", email.title()])

    # most streams happen within an hour (many ties in time, one session on every shared identifier);
    # some over hours (sessions end at gaps), some over weeks (limit windows matter)
    minutes_apart = rng.choice([1, 1, 1, 12, 2 * 24 * 60])
    result = []
    for index in range(events):
        call = rng.choice(["identify", "track", "track", "page", "screen", "alias", "group"])
        moment = BASE + timedelta(minutes=rng.randrange(0, 40) * minutes_apart)
        event: dict = {"messageId": f"{tag}-m{index}", "type": call, "context": {}}
        offset_hours = rng.choice([0, 2, -5])
        stamp = (moment + timedelta(hours=offset_hours)).replace(tzinfo=None).isoformat()
        event["timestamp"] = stamp + ("Z" if offset_hours == 0 else f"{offset_hours:+03d}:00")
        user = rng.choice(users)
        if rng.random() < 0.45 or call == "alias":
            event["userId"] = maybe_placeholder(user)
        if own_anonymous and rng.random() < 0.8:
            event["anonymousId"] = rng.choice(kiosks) if rng.random() < 0.25 else rng.choice(own_anonymous[user])
        elif rng.random() < 0.8:
            event["anonymousId"] = maybe_placeholder(rng.choice(anonymous))
        if "userId" not in event and "anonymousId" not in event and rng.random() < 0.9:
            event["anonymousId"] = rng.choice(anonymous)
        if call == "alias":
            event["previousId"] = rng.choice(anonymous)
        if call == "track":
            event["event"] = "Clicked" if rng.random() < 0.97 else ""
        if call == "group":
            event["groupId"] = f"{tag}-org"
            event["traits"] = {"email": f"{tag}-team@company.com"}
        if call == "identify" and rng.random() < 0.8:
            event["traits"] = {"email": maybe_placeholder(messy_email())}
        if rng.random() < 0.1:
            event["context"]["traits"] = {"email": messy_email()}
        if rng.random() < 0.5:
            device_type, device_id = rng.choice(devices)
            event["context"]["device"] = {"type": device_type, "id": maybe_placeholder(device_id)}
            if rng.random() < 0.2:
                event["context"]["device"]["advertisingId"] = maybe_placeholder(f"{tag}-ad-{device_id}")
        if rng.random() < 0.1:
            event["context"]["externalIds"] = [{"id": f"{tag}-crm-{rng.randint(0, 2)}", "type": "CRM_ID"}]
        result.append(event)
    return result
