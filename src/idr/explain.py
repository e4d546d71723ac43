"""Why two identifiers are, or are not, in one profile: the identity graph around them, from the marts.

Two identifiers share a profile when a chain of accepted links (`identity_edges` with `is_refused`
false) joins them; the explanation is the shortest such chain, each link with when it was first and
last seen, in how many events, and the first event that carried it. Two identifiers in different
profiles were either never joined by any chain of links, or were joined only through links that merge
protection refused: then the explanation is the shortest chain of profiles joined by refused links,
each refused link with the limit it would have broken (`identity_violations`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import networkx as nx

from idr.lookup import Identifier, LookupUsageError, Reference, find_identifier, rows

MAX_REFUSED_HOPS = 6  # profiles searched through refused links before "never linked"

EDGE_COLUMNS = (
    "identifier_a_type, identifier_a_value, profile_a_id, identifier_b_type, identifier_b_value, profile_b_id, "
    "first_seen_at, last_seen_at, event_count, is_refused"
)


@dataclass
class Link:
    """A link of identity_edges, with the event that first carried it and, if refused, the violation."""

    edge: dict[str, Any]
    first_events: list[dict[str, Any]] = field(default_factory=list)
    violation: dict[str, Any] | None = None

    @property
    def ends(self) -> tuple[str, str]:
        return (
            f"{self.edge['identifier_a_type']}:{self.edge['identifier_a_value']}",
            f"{self.edge['identifier_b_type']}:{self.edge['identifier_b_value']}",
        )


@dataclass
class Explanation:
    first: Identifier
    second: Identifier
    verdict: str  # "same_profile", "refused" or "never_linked"
    links: list[Link]


def explain(connection: duckdb.DuckDBPyConnection, first: Reference, second: Reference) -> Explanation:
    """Why `first` and `second` are, or are not, in one profile."""
    for reference in (first, second):
        if reference.identifier_type == "profile":
            raise LookupUsageError(f"{reference}: explain takes two identifiers (TYPE:VALUE), not profile ids")
    identifier_a, identifier_b = find_identifier(connection, first), find_identifier(connection, second)
    if identifier_a.profile_id == identifier_b.profile_id:
        edges = profile_edges(connection, [identifier_a.profile_id], refused=False)
        # the stitching merges only along accepted links, so one profile's links always connect it
        path = _shortest_path(_identifier_graph(edges), str(identifier_a), str(identifier_b))
        links = [_with_first_events(connection, link) for link in _links_along(path, edges)]
        return Explanation(identifier_a, identifier_b, "same_profile", links)
    refused = _refused_chain(connection, identifier_a.profile_id, identifier_b.profile_id)
    if refused is None:
        return Explanation(identifier_a, identifier_b, "never_linked", [])
    return Explanation(identifier_a, identifier_b, "refused", [_with_violation(connection, link) for link in refused])


def profile_edges(
    connection: duckdb.DuckDBPyConnection, profile_ids: Iterable[str], refused: bool | None = None
) -> list[dict[str, Any]]:
    """The links with an end in one of `profile_ids`: accepted ones (refused=False), refused ones
    (True) or both (None)."""
    ids = list(profile_ids)
    condition = "" if refused is None else f" and is_refused = {'true' if refused else 'false'}"
    return rows(
        connection,
        f"select {EDGE_COLUMNS} from identity_edges "
        f"where (list_contains(?, profile_a_id) or list_contains(?, profile_b_id)){condition} "
        "order by first_seen_at, identifier_a_type, identifier_a_value, identifier_b_type, identifier_b_value",
        [ids, ids],
    )


def _identifier_graph(edges: list[dict[str, Any]]) -> nx.Graph:
    graph = nx.Graph()
    for edge in edges:
        link = Link(edge)
        graph.add_edge(*link.ends, edge=edge)
    return graph


def _shortest_path(graph: nx.Graph, source: str, target: str) -> list[str]:
    if source == target:
        return [source]
    return list(nx.shortest_path(graph, source, target))


def _links_along(path: list[str], edges: list[dict[str, Any]]) -> list[Link]:
    by_ends = {frozenset(Link(edge).ends): edge for edge in edges}
    return [Link(by_ends[frozenset((a, b))]) for a, b in itertools.pairwise(path)]


def _refused_chain(connection: duckdb.DuckDBPyConnection, source: str, target: str) -> list[Link] | None:
    """The refused links of the shortest chain of profiles from `source` to `target` that refused links
    join (breadth first, at most MAX_REFUSED_HOPS profiles away): every refused link between each two
    profiles of the chain, or None."""
    reached: dict[str, dict[str, Any] | None] = {source: None}  # profile -> the refused link it was reached by
    frontier = [source]
    for _ in range(MAX_REFUSED_HOPS):
        if not frontier or target in reached:
            break
        next_frontier = []
        for edge in profile_edges(connection, frontier, refused=True):
            for here, there in (
                (edge["profile_a_id"], edge["profile_b_id"]),
                (edge["profile_b_id"], edge["profile_a_id"]),
            ):
                if here in frontier and there not in reached:
                    reached[there] = edge
                    next_frontier.append(there)
        frontier = next_frontier
    if target not in reached:
        return None
    hops = []
    profile = target
    while (reaching := reached[profile]) is not None:
        previous = reaching["profile_a_id"] if reaching["profile_b_id"] == profile else reaching["profile_b_id"]
        hops.append((previous, profile))
        profile = previous
    # every refused link between the profiles of each hop, in the order profile_edges gives them
    edges = profile_edges(connection, [hop[0] for hop in hops], refused=True)
    chain = []
    for here, there in reversed(hops):
        chain += [Link(edge) for edge in edges if {edge["profile_a_id"], edge["profile_b_id"]} == {here, there}]
    return chain


def _with_first_events(connection: duckdb.DuckDBPyConnection, link: Link) -> Link:
    """The events at the link's first sighting on its profiles' timelines that carry one of its ends
    (every event carrying both ends is on one of them)."""
    edge = link.edge
    values = [edge["identifier_a_value"], edge["identifier_b_value"]]
    link.first_events = rows(
        connection,
        "select profile_id, message_id, event_type, event_name, occurred_at from profile_events "
        "where profile_id in (?, ?) and occurred_at = ? "
        "and (list_contains(?, user_id) or list_contains(?, anonymous_id) or list_contains(?, device_id) "
        "or list_contains(?, assigned_by_identifier_value)) "
        "order by occurred_at, message_id",
        [edge["profile_a_id"], edge["profile_b_id"], edge["first_seen_at"], values, values, values, values],
    )
    return link


def _with_violation(connection: duckdb.DuckDBPyConnection, link: Link) -> Link:
    edge = link.edge
    found = rows(
        connection,
        "select limit_identifier_type, limit_value, limit_window_start_at, combined_count "
        "from identity_violations where identifier_a_type = ? and identifier_a_value = ? "
        "and identifier_b_type = ? and identifier_b_value = ? "
        "order by limit_identifier_type",
        [edge["identifier_a_type"], edge["identifier_a_value"], edge["identifier_b_type"], edge["identifier_b_value"]],
    )
    link.violation = found[0] if found else None
    _with_first_events(connection, link)
    return link
