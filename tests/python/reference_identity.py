"""An independent, deliberately simple model of the identity rules, to check the SQL against.

It reads Segment-spec events (Python dicts) and follows the rules of docs/resolution.md directly: accept or reject
each event, read its identifiers, drop placeholders, then walk the links between identifiers seen in one
event strongest first (union-find), refusing a link whose merge would break a limit; name each group
after its oldest identifier. An identifier is shared when it and the identifiers seen with it hold more
values of a type at least as trusted as its own than that type's limit allows in one window; each event
goes to the group of its most trusted unshared identifier, and an event with only shared identifiers to
the person of the next identify in its session on its most trusted identifier (or, without one, to that
identifier's group).
Configuration (priorities, limits, windows, blocked values, prefix) comes from dbt_project.yml.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import yaml

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text())["vars"]
CALL_TYPES = {"identify", "track", "page", "screen", "alias", "group"}
Identifier = tuple[str, str]


def blank(value: object) -> bool:
    return value is None or str(value).strip(" ") == ""


def priority(identifier_type: str) -> int:
    return int(str(setting(identifier_type, "priority")))


def occurred_at(event: dict) -> datetime:
    text = event.get("timestamp") or event.get("originalTimestamp") or event.get("receivedAt")
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def is_accepted(event: dict) -> bool:
    if blank(event.get("userId")) and blank(event.get("anonymousId")):
        return False
    if event["type"] == "alias" and (blank(event.get("previousId")) or blank(event.get("userId"))):
        return False
    return not (event["type"] == "track" and blank(event.get("event")))


def identifiers(event: dict) -> set[Identifier]:
    """The usable identifiers of an accepted event."""
    context = event.get("context", {})
    device = context.get("device", {})
    device_type = str(device.get("type", "")).strip(" ").lower()
    found = [("user_id", event.get("userId")), ("anonymous_id", event.get("anonymousId"))]
    if event["type"] == "alias":
        found.append(("anonymous_id", event.get("previousId")))
    if event["type"] == "identify":
        found.append(("email", event.get("traits", {}).get("email")))
    found.append(("email", context.get("traits", {}).get("email")))
    if device_type in ("ios", "ipados", "android"):
        prefix = "ios" if device_type != "android" else "android"
        found += [(f"{prefix}.id", device.get("id")), (f"{prefix}.idfa", device.get("advertisingId"))]
    found += [
        (str(entry.get("type", "")).strip(" ").lower(), entry.get("id")) for entry in context.get("externalIds", [])
    ]
    usable = set()
    for identifier_type, value in found:
        if value is None or identifier_type == "":
            continue
        value = str(value).strip(" ")
        if identifier_type in CONFIG["idr_lowercase_identifier_types"]:
            value = value.lower()
        if value and not is_blocked(value):
            usable.add((identifier_type, value))
    return usable


def is_blocked(value: str) -> bool:
    blocked = {v.lower() for v in CONFIG["idr_blocked_values"]}
    return re.search(CONFIG["idr_blocked_value_pattern"], value) is not None or value.lower() in blocked


def setting(identifier_type: str, name: str) -> object:
    settings = CONFIG["idr_identifier_types"].get(identifier_type, {})
    return settings.get(name, CONFIG[f"idr_default_identifier_{name}"])


def breaks_limit(identifier_type: str, count: int) -> bool:
    """The limit rule: more identifiers of the type in one window than its limit allows (the SQL writes it
    once too, as the macro idr_breaks_limit of macros/limits.sql)."""
    return count > int(str(setting(identifier_type, "limit")))


def bucket(identifier_type: str, first_seen: datetime) -> str:
    """The calendar window (UTC) an identifier's limit counts it in."""
    window = str(setting(identifier_type, "window"))
    if window == "weekly":
        return (first_seen.date() - timedelta(days=first_seen.weekday())).isoformat()
    formats = {"ever": "", "annually": "%Y", "monthly": "%Y-%m", "daily": "%Y-%m-%d"}
    return first_seen.strftime(formats[window])


@dataclass
class Resolution:
    profile_of_identifier: dict[Identifier, str] = field(default_factory=dict)
    profile_of_event: dict[str, str] = field(default_factory=dict)
    unidentified_events: set[str] = field(default_factory=set)
    rejected_events: set[str] = field(default_factory=set)
    # refused link (the two identifiers, more trusted first) -> the limits the merge would have broken
    refused_links: dict[tuple[Identifier, Identifier], set[str]] = field(default_factory=dict)
    shared_identifiers: set[Identifier] = field(default_factory=set)
    # message id -> (the identifier that decided its profile, why)
    assignment_of_event: dict[str, tuple[Identifier, str]] = field(default_factory=dict)


def resolve(events: list[dict]) -> Resolution:
    result = Resolution()
    first_seen: dict[Identifier, datetime] = {}
    link_seen: dict[tuple[Identifier, Identifier], datetime] = {}
    event_identifiers: dict[str, set[Identifier]] = {}
    event_moment: dict[str, datetime] = {}
    identifies: set[str] = set()
    for event in events:
        if not is_accepted(event):
            result.rejected_events.add(event["messageId"])
            continue
        found = identifiers(event)
        if not found:
            result.unidentified_events.add(event["messageId"])
            continue
        moment = occurred_at(event)
        event_identifiers[event["messageId"]] = found
        event_moment[event["messageId"]] = moment
        if event["type"] == "identify":
            identifies.add(event["messageId"])
        for identifier in found:
            first_seen[identifier] = min(first_seen.get(identifier, moment), moment)
        for a, b in combinations(sorted(found, key=trust), 2):
            link_seen[a, b] = min(link_seen.get((a, b), moment), moment)

    # Union-find; each root keeps how many identifiers of each (type, window) its group holds.
    parent = {identifier: identifier for identifier in first_seen}
    counts = {i: Counter({(i[0], bucket(i[0], first_seen[i])): 1}) for i in first_seen}

    def find(node: Identifier) -> Identifier:
        while parent[node] != node:
            node = parent[node]
        return node

    def strength(link: tuple[Identifier, Identifier]) -> tuple:
        trusted, other = link
        return (priority(other[0]), priority(trusted[0]), link_seen[link], trusted, other)

    for link in sorted(link_seen, key=strength):
        root_a, root_b = find(link[0]), find(link[1])
        if root_a == root_b:
            continue
        merged = counts[root_a] + counts[root_b]
        broken = {t for (t, _), n in merged.items() if breaks_limit(t, n)}
        if broken:
            result.refused_links[link] = broken
        else:
            parent[root_b] = root_a
            counts[root_a] = merged

    def age(identifier: Identifier) -> tuple:
        return (first_seen[identifier], priority(identifier[0]), identifier[0], identifier[1])

    oldest: dict[Identifier, Identifier] = {}
    for identifier in parent:
        root = find(identifier)
        if root not in oldest or age(identifier) < age(oldest[root]):
            oldest[root] = identifier
    for identifier in parent:
        anchor_type, anchor_value = oldest[find(identifier)]
        digest = hashlib.md5(f"{anchor_type}:{anchor_value}".encode()).hexdigest()[:20]
        result.profile_of_identifier[identifier] = CONFIG["idr_profile_id_prefix"] + digest

    neighbours: dict[Identifier, set[Identifier]] = defaultdict(set)
    for a, b in link_seen:
        neighbours[a].add(b)
        neighbours[b].add(a)
    for identifier in first_seen:
        own = priority(identifier[0])
        held = Counter(
            (other[0], bucket(other[0], first_seen[other]))
            for other in neighbours[identifier] | {identifier}
            if priority(other[0]) <= own
        )
        if any(breaks_limit(t, n) for (t, _), n in held.items()):
            result.shared_identifiers.add(identifier)

    def unshared_choice(message_id: str) -> Identifier | None:
        unshared = [i for i in event_identifiers[message_id] if i not in result.shared_identifiers]
        return min(unshared, key=trust) if unshared else None

    # the events on each shared identifier in time order, cut into sessions at gaps longer than the var
    gap = timedelta(minutes=CONFIG["idr_session_gap_minutes"])
    session_of: dict[tuple[Identifier, str], int] = {}
    for identifier in result.shared_identifiers:
        carried = sorted((event_moment[m], m) for m, found in event_identifiers.items() if identifier in found)
        number, previous = 0, None
        for moment, message_id in carried:
            if previous is not None and moment - previous > gap:
                number += 1
            session_of[identifier, message_id] = number
            previous = moment

    def session_choice(message_id: str, identifier: Identifier) -> Identifier | None:
        """The most trusted unshared identifier of the first identify on `identifier`, at the event's time
        or later, in the event's session there (ties in time: the smaller messageId)."""
        session, moment = session_of[identifier, message_id], event_moment[message_id]
        naming = sorted(
            (event_moment[m], m)
            for m in identifies
            if identifier in event_identifiers[m]
            and session_of[identifier, m] == session
            and event_moment[m] >= moment
            and unshared_choice(m) is not None
        )
        return unshared_choice(naming[0][1]) if naming else None

    for message_id, found in event_identifiers.items():
        most_trusted = min(found, key=trust)
        chosen = unshared_choice(message_id)
        if chosen is not None:
            assignment = (chosen, "identifier" if chosen == most_trusted else "unshared_identifier")
        else:
            named = session_choice(message_id, most_trusted)
            assignment = (named, "session") if named is not None else (most_trusted, "shared_identifier")
        result.assignment_of_event[message_id] = assignment
        result.profile_of_event[message_id] = result.profile_of_identifier[assignment[0]]
    return result


def trust(identifier: Identifier) -> tuple:
    """Most trusted first: priority, then type and value."""
    return (priority(identifier[0]), identifier[0], identifier[1])
