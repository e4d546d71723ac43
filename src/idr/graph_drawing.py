"""A picture of one profile's identity graph and its refused neighbours (`idr graph`).

The profile's identifiers are nodes coloured by type; its links are solid lines labelled with when
they were first seen and in how many events; the links merge protection refused are dashed red lines
to the identifiers across them (drawn in grey). networkx lays the graph out (a seeded spring layout, so
a picture is the same every time) and matplotlib draws it as SVG or PNG; `.html` is a page holding the
SVG and the table of links.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import networkx as nx
from matplotlib.figure import Figure  # drawn without pyplot: no screen, no global figure state
from matplotlib.lines import Line2D

from idr.lookup import LookupUsageError

matplotlib.rcParams["svg.hashsalt"] = "idr"  # the same ids in the SVG every time

FORMATS = (".svg", ".png", ".html")
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f")
OUTSIDE_COLOUR = "#bab0ac"
REFUSED_COLOUR = "#e15759"


class GraphFormatError(LookupUsageError):
    """An output file name whose suffix is not .svg, .png or .html (exit 2)."""


@dataclass(frozen=True)
class GraphPicture:
    path: Path
    nodes: int
    links: int
    refused_links: int


def draw_profile_graph(
    profile_id: str, identifiers: list[dict[str, Any]], edges: list[dict[str, Any]], out: Path
) -> GraphPicture:
    """Draws the profile's identifiers and the links with an end among them into `out`."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise GraphFormatError(f"{out}: the picture is written as .svg, .png or .html")
    graph = _graph(profile_id, identifiers, edges)
    figure = _figure(graph, profile_id)
    if suffix == ".html":
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        out.write_text(_page(profile_id, buffer.getvalue(), edges), encoding="utf-8")
    else:
        metadata = {"Date": None} if suffix == ".svg" else None
        figure.savefig(out, format=suffix[1:], bbox_inches="tight", dpi=120, metadata=metadata)
    refused = sum(1 for edge in edges if edge["is_refused"])
    return GraphPicture(out, graph.number_of_nodes(), len(edges) - refused, refused)


def node_name(identifier_type: str, value: str) -> str:
    return f"{identifier_type}:{value}"


def _graph(profile_id: str, identifiers: list[dict[str, Any]], edges: list[dict[str, Any]]) -> nx.Graph:
    graph = nx.Graph()
    for identifier in identifiers:
        name = node_name(identifier["identifier_type"], identifier["identifier_value"])
        graph.add_node(name, identifier_type=identifier["identifier_type"], inside=True)
    for edge in edges:
        ends = []
        for side in ("a", "b"):
            name = node_name(edge[f"identifier_{side}_type"], edge[f"identifier_{side}_value"])
            if name not in graph:
                graph.add_node(
                    name,
                    identifier_type=edge[f"identifier_{side}_type"],
                    inside=edge[f"profile_{side}_id"] == profile_id,
                )
            ends.append(name)
        label = f"{edge['first_seen_at']:%Y-%m-%d} x{edge['event_count']}"
        graph.add_edge(*ends, refused=bool(edge["is_refused"]), label=label)
    return graph


def _figure(graph: nx.Graph, profile_id: str) -> Figure:
    types = sorted({data["identifier_type"] for _, data in graph.nodes(data=True)})
    colour_of = {identifier_type: PALETTE[index % len(PALETTE)] for index, identifier_type in enumerate(types)}
    layout = nx.spring_layout(graph, seed=7, k=1.6 / max(1, graph.number_of_nodes()) ** 0.5)
    size = 6 + graph.number_of_nodes() ** 0.5
    figure = Figure(figsize=(size * 1.4, size))
    axes = figure.subplots()
    accepted = [(a, b) for a, b, data in graph.edges(data=True) if not data["refused"]]
    refused = [(a, b) for a, b, data in graph.edges(data=True) if data["refused"]]
    nx.draw_networkx_edges(graph, layout, edgelist=accepted, ax=axes, width=1.6, edge_color="#555555")
    nx.draw_networkx_edges(
        graph, layout, edgelist=refused, ax=axes, width=1.6, edge_color=REFUSED_COLOUR, style="dashed"
    )
    nodes = list(graph.nodes)
    colours = [
        colour_of[graph.nodes[node]["identifier_type"]] if graph.nodes[node]["inside"] else OUTSIDE_COLOUR
        for node in nodes
    ]
    nx.draw_networkx_nodes(
        graph, layout, nodelist=nodes, node_color=colours, node_size=700, ax=axes, edgecolors="#333333"
    )
    nx.draw_networkx_labels(graph, layout, labels={node: node for node in nodes}, font_size=8, ax=axes)
    nx.draw_networkx_edge_labels(
        graph, layout, edge_labels=nx.get_edge_attributes(graph, "label"), font_size=7, ax=axes
    )
    legend = [
        Line2D(
            [0],
            [0],
            marker="o",
            linestyle="",
            markersize=10,
            markerfacecolor=colour_of[t],
            markeredgecolor="#333333",
            label=t,
        )
        for t in types
    ]
    legend += [
        Line2D(
            [0], [0], marker="o", linestyle="", markersize=10, markerfacecolor=OUTSIDE_COLOUR, label="another profile"
        ),
        Line2D([0], [0], color=REFUSED_COLOUR, linestyle="dashed", label="refused link (merge protection)"),
    ]
    axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    axes.margins(0.22)  # room for the labels of the outermost nodes
    axes.set_title(f"{profile_id}: identity graph (links labelled first seen, events)", fontsize=10)
    axes.axis("off")
    return figure


def _page(profile_id: str, svg: str, edges: list[dict[str, Any]]) -> str:
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(value))}</td>"
            for value in (
                node_name(edge["identifier_a_type"], edge["identifier_a_value"]),
                node_name(edge["identifier_b_type"], edge["identifier_b_value"]),
                edge["first_seen_at"],
                edge["last_seen_at"],
                edge["event_count"],
                "refused" if edge["is_refused"] else "",
            )
        )
        + "</tr>"
        for edge in edges
    )
    svg_body = svg[svg.index("<svg") :]
    title = html.escape(profile_id)
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{title}</title></head><body>\n"
        f"<h1>{title}</h1>\n{svg_body}\n<table border='1'><tr><th>identifier a</th><th>identifier b</th>"
        f"<th>first seen</th><th>last seen</th><th>events</th><th></th></tr>{cells}</table>\n</body></html>\n"
    )
