"""The terminal text of `idr profile` and `idr explain`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from idr.explain import Explanation, Link
from idr.lookup import Profile
from idr.query_output import aligned_table


def profile_text(profile: Profile) -> str:
    summary = profile.summary
    lines = [f"Profile {profile.profile_id} (found by {profile.asked_for})"]
    for key in ("user_id", "email", "identifier_count", "event_count", "first_seen_at", "last_seen_at"):
        if key in summary:
            lines.append(f"  {key:<17}{_value(summary[key])}")
    lines += ["", "Traits", _table(profile.traits, ("trait", "value", "updated_at", "trait_source"))]
    lines += [
        "",
        "Identifiers",
        _table(
            profile.identifiers, ("identifier_type", "identifier_value", "first_seen_at", "last_seen_at", "event_count")
        ),
    ]
    lines += [
        "",
        f"Latest events ({len(profile.events)})",
        _table(
            profile.events,
            ("timeline_position", "occurred_at", "event_type", "event_name", "app_name", "assignment_reason"),
        ),
    ]
    lines += ["", "Merges"]
    lines.append(
        _table(profile.merges, ("merged_profile_id", "profile_id", "merged_by_identifier_type", "merged_at"))
        if profile.merges
        else "  none: this profile has never absorbed another"
    )
    return "\n".join(lines)


def explanation_text(explanation: Explanation) -> str:
    first, second = explanation.first, explanation.second
    if explanation.verdict == "same_profile":
        lines = [
            f"{first} and {second} are in one profile, {first.profile_id}, joined by {len(explanation.links)} link(s):"
        ]
        lines += [_link_lines(number, link) for number, link in enumerate(explanation.links, start=1)]
        return "\n".join(lines)
    if explanation.verdict == "never_linked":
        return (
            f"{first} ({first.profile_id}) and {second} ({second.profile_id}) are in different profiles and were never "
            f"linked: no event carried identifiers that join them, refused links included"
        )
    lines = [
        f"{first} ({first.profile_id}) and {second} ({second.profile_id}) are in different profiles: merge protection "
        f"refused {len(explanation.links)} link(s) between them:"
    ]
    lines += [_link_lines(number, link) for number, link in enumerate(explanation.links, start=1)]
    return "\n".join(lines)


def _link_lines(number: int, link: Link) -> str:
    edge = link.edge
    a, b = link.ends
    lines = [
        f"  {number}. {a} — {b}: first seen {_value(edge['first_seen_at'])}, last seen {_value(edge['last_seen_at'])}, "
        f"in {edge['event_count']} event(s)"
    ]
    if link.violation is not None:
        violation = link.violation
        window = violation["limit_window_start_at"]
        lines.append(
            f"     refused: the two profiles together would hold {violation['combined_count']} "
            f"{violation['limit_identifier_type']} values, over the limit of {violation['limit_value']}"
            + (f" (in the window from {_value(window)})" if window is not None else "")
        )
    elif edge["is_refused"]:
        lines.append("     refused (identity_violations holds no limit for it)")
    for event in link.first_events:
        name = f" {event['event_name']}" if event["event_name"] else ""
        lines.append(
            f"     first event: {event['event_type']}{name} {event['message_id']} at {_value(event['occurred_at'])}"
        )
    return "\n".join(lines)


def _table(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    table = aligned_table(list(columns), [[record.get(column) for column in columns] for record in records])
    return "\n".join("  " + line for line in table.splitlines())


def _value(value: Any) -> str:
    return "" if value is None else value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
