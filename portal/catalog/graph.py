"""The dependency graph: blast radius of a failure and single points of failure.

Edges point from a dependent to what it depends on, and carry `critical`: False when the
dependent only degrades if the dependency fails (the failure modes say which).
"""
from __future__ import annotations

import functools
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import networkx as nx
import plotly.graph_objects as go
import plotly.io as pio
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog.models import Dependency, Service, Team

# The SPOF method traces the user's path to each critical service; users reach the API
# services through the gateway (Meridian's network topology).
USER_ENTRY_POINTS = ("api-gateway",)
KIND_SYMBOLS = {"service": "circle", "datastore": "square", "infrastructure": "diamond"}


@dataclass(frozen=True)
class Impact:
    slug: str
    name: str
    state: str  # down | degraded
    via: str  # the dependency through which the failure reaches it


def build(*, session: Session) -> nx.DiGraph:
    """The catalog as a directed graph (dependent -> dependency)."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    # Plain columns, not ORM objects: the graph of a catalog of thousands of entries is
    # built from two statements without an identity map to fill.
    nodes = session.execute(select(Service.id, Service.slug, Service.name, Service.kind,
                                   Service.tier, Team.name).join(Team, Team.id == Service.team_id))
    slugs = {}
    for id_, slug, name, kind, tier, team in nodes:
        slugs[id_] = slug
        graph.add_node(slug, id=id_, name=name, kind=kind, tier=tier, team=team)
    pairs = session.execute(select(Dependency.critical, Dependency.service_id,
                                   Dependency.depends_on_id))
    for critical, source_id, target_id in pairs:
        graph.add_edge(slugs[source_id], slugs[target_id], critical=critical)
    return graph


def _critical_only(graph: nx.DiGraph) -> nx.DiGraph:
    return graph.edge_subgraph([(a, b) for a, b, c in graph.edges(data="critical", default=False)
                                if c]).copy()


def down_set(graph: nx.DiGraph, slug: str, critical: nx.DiGraph | None = None) -> set[str]:
    """`slug` and every entry that fails with it (reached through critical edges only).

    Pass `critical` (the critical-edge subgraph) when calling this for many entries.
    """
    critical = _critical_only(graph) if critical is None else critical
    return {slug} | (nx.ancestors(critical, slug) if slug in critical else set())


def blast_radius(graph: nx.DiGraph, slug: str,
                 critical: nx.DiGraph | None = None) -> list[Impact]:
    """What breaks if `slug` fails: transitive dependents, each down or degraded (pass
    `critical`, the critical-edge subgraph, when calling this for many entries)."""
    down = down_set(graph, slug, critical)
    dependents = nx.ancestors(graph, slug)
    affected = dependents | {slug}
    impacts = []
    for node in sorted(dependents, key=lambda n: (n not in down, n)):
        # The failed entry itself when it is a direct dependency, else the nearest hop.
        hops = sorted((b for b in graph.successors(node) if b in affected),
                      key=lambda b: (b != slug, b not in down, b))
        via = hops[0]
        impacts.append(Impact(node, graph.nodes[node]["name"],
                              "down" if node in down else "degraded", via))
    return impacts


def neighbourhood(graph: nx.DiGraph, slug: str) -> set[str]:
    """`slug`, everything it depends on and everything that depends on it, transitively."""
    return {slug} | nx.ancestors(graph, slug) | nx.descendants(graph, slug)


def dependency_paths(graph: nx.DiGraph, slugs: set[str]) -> dict[str, list[str]]:
    """`slugs` and everything they depend on, transitively, each with the shortest path
    from one of `slugs` (a slug of `slugs` has the path [slug])."""
    present = {s for s in slugs if s in graph}
    return nx.multi_source_dijkstra_path(graph, present) if present else {}


def critical_services(graph: nx.DiGraph) -> list[str]:
    """Tier-1 services: the user journeys the SPOF method protects."""
    return sorted(n for n, d in graph.nodes(data=True) if d["kind"] == "service" and d["tier"] == 1)


def _journey_fails(graph: nx.DiGraph, service: str, down: set[str]) -> bool:
    if service in down:
        return True
    return any(entry in down and (entry == service or graph.has_edge(entry, service))
               for entry in USER_ENTRY_POINTS if entry in graph)


def critical_only(graph: nx.DiGraph) -> nx.DiGraph:
    """The subgraph of the critical dependencies (a failure of those takes callers down)."""
    return _critical_only(graph)


def single_points_of_failure(graph: nx.DiGraph,
                             critical: nx.DiGraph | None = None) -> list[str]:
    """Entries whose failure alone breaks the user's path to every critical service."""
    journeys = critical_services(graph)
    if not journeys:
        return []
    critical = _critical_only(graph) if critical is None else critical
    return sorted(node for node in graph.nodes
                  if all(_journey_fails(graph, j, down_set(graph, node, critical))
                         for j in journeys))


def _layers(graph: nx.DiGraph) -> dict[str, int]:
    """Row of each node: callers on top, the things everything depends on at the bottom."""
    condensed = nx.condensation(graph)  # cycles (possible after an import) collapse to one row
    rows = {}
    for depth, members in enumerate(nx.topological_generations(condensed)):
        for component in members:
            for node in condensed.nodes[component]["members"]:
                rows[node] = depth
    return rows


def figure(graph: nx.DiGraph, *, focus: str | None = None, spofs: AbstractSet[str] = frozenset(),
           nodes: set[str] | None = None, impacts: list[Impact] | None = None) -> go.Figure:
    """A Plotly network figure; the focus, its blast radius (`impacts` when the caller has
    it already) and the SPOFs are highlighted."""
    return go.Figure(figure_spec(graph, focus=focus, spofs=spofs, nodes=nodes, impacts=impacts))


def figure_spec(graph: nx.DiGraph, *, focus: str | None = None,
                spofs: AbstractSet[str] = frozenset(), nodes: set[str] | None = None,
                impacts: list[Impact] | None = None) -> dict:
    """`figure` as the plain dict Plotly serialises it to, with the default template:
    building the Figure object validates every property, which costs more than the
    service page that shows it."""
    shown = graph.subgraph(nodes) if nodes else graph
    rows = _layers(shown)
    by_row: dict[int, list[str]] = {}
    for node in sorted(shown.nodes):
        by_row.setdefault(rows[node], []).append(node)
    pos = {n: ((i + 1) / (len(members) + 1), -row)
           for row, members in by_row.items() for i, n in enumerate(members)}
    if focus and impacts is None:
        impacts = blast_radius(graph, focus)
    radius = {i.slug: i.state for i in impacts or ()}
    data: list[dict] = []
    critical: bool | None  # an edge's "critical" attribute
    for dashed in (False, True):
        xs, ys = [], []
        for a, b, critical in shown.edges(data="critical"):
            if critical is dashed:
                continue
            xs += [pos[a][0], pos[b][0], None]
            ys += [pos[a][1], pos[b][1], None]
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "hoverinfo": "skip",
                     "name": "degrades only" if dashed else "critical dependency",
                     "line": {"width": 1, "color": "#999",
                              "dash": "dot" if dashed else "solid"}})
    for label, color, members in _node_groups(shown, focus, radius, spofs):
        data.append({
            "type": "scatter", "x": [pos[n][0] for n in members],
            "y": [pos[n][1] for n in members], "name": label, "mode": "markers+text",
            "text": members, "textposition": "top center",
            "marker": {"size": 14, "color": color, "line": {"width": 1, "color": "#333"},
                       "symbol": [KIND_SYMBOLS[shown.nodes[n]["kind"]] for n in members]},
            "hovertext": [f"{shown.nodes[n]['name']} ({shown.nodes[n]['kind']}, tier "
                          f"{shown.nodes[n]['tier']}, {shown.nodes[n]['team']})"
                          for n in members],
            "hoverinfo": "text"})
    layout = {"height": 560, "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
              "xaxis": {"visible": False}, "yaxis": {"visible": False},
              "legend": {"orientation": "h"}, "plot_bgcolor": "rgba(0,0,0,0)",
              "template": _default_template()}
    return {"data": data, "layout": layout}


@functools.cache
def _default_template() -> dict:
    return pio.templates[pio.templates.default].to_plotly_json()


def _node_groups(graph, focus, radius, spofs):
    groups = {"focus": [], "down if it fails": [], "degraded if it fails": [],
              "single point of failure": [], "other": []}
    for node in sorted(graph.nodes):
        if node == focus:
            groups["focus"].append(node)
        elif radius.get(node) == "down":
            groups["down if it fails"].append(node)
        elif radius.get(node) == "degraded":
            groups["degraded if it fails"].append(node)
        elif node in spofs:
            groups["single point of failure"].append(node)
        else:
            groups["other"].append(node)
    colors = {"focus": "#1565c0", "down if it fails": "#c62828",
              "degraded if it fails": "#ef6c00", "single point of failure": "#6a1b9a",
              "other": "#9e9e9e"}
    return [(label, colors[label], members) for label, members in groups.items() if members]
