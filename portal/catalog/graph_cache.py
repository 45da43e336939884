"""The dependency graph and what pages derive from it, cached per catalog version.

Building the graph, finding single points of failure and laying out a Plotly figure cost
far more than a page may (tens of milliseconds for Meridian, seconds for a catalog of
thousands of entries), while the catalog changes a few times a day. Each request asks the
database for the catalog's version in one cheap statement and reuses what was derived for
that version, so every process and every replica stays exact without any invalidation.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import networkx as nx
from cachetools import LRUCache
from markupsafe import Markup
from sqlalchemy import ColumnElement, String, literal_column, text
from sqlalchemy.orm import Session

from portal.catalog import graph as dependency_graph
from portal.db import rows_version_sql
from portal.rendering import figure_html

# Changes with any change to what the graph is built from (see db.rows_version_sql).
_VERSION_SQL = "SELECT " + rows_version_sql("services", "service_dependencies", "teams")
_VERSION = text(_VERSION_SQL)


@dataclass(frozen=True)
class Focus:
    """What a service page shows of the graph around one entry."""
    impacts: list[dependency_graph.Impact]
    is_spof: bool
    dependents: list[tuple[str, str]]  # (slug, name) of direct callers, by name
    graph_html: Markup


@dataclass
class _Derived:
    graph: nx.DiGraph
    _spofs: list[str] | None = None
    _critical: nx.DiGraph | None = None
    focus: dict[str, Focus] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def critical(self) -> nx.DiGraph:
        # Copying the critical edges walks the whole catalog (milliseconds at thousands of
        # entries): once per version, not once per blast radius.
        if self._critical is None:
            self._critical = dependency_graph.critical_only(self.graph)
        return self._critical

    @property
    def spofs(self) -> list[str]:
        if self._spofs is None:
            self._spofs = dependency_graph.single_points_of_failure(self.graph, self.critical)
        return self._spofs


_cache: LRUCache = LRUCache(maxsize=8)  # a few versions: old ones age out
_cache_lock = threading.Lock()
FOCUS_PER_VERSION = 512  # service pages kept per version (each holds one figure)


def version(*, session: Session) -> str:
    """The catalog graph's version now (changes with any change to what the graph reads)."""
    return session.execute(_VERSION).scalar_one()


def version_column() -> ColumnElement[str]:
    """`version` as a column, for a page that reads it within its main statement (the
    version must come from the same transaction as what the page shows of the catalog)."""
    return literal_column(f"({_VERSION_SQL})", String)


def _derived(session: Session, known_version: str | None = None) -> _Derived:
    key = (str(session.get_bind().engine.url),
           known_version if known_version is not None else version(session=session))
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = _Derived(dependency_graph.build(session=session))
        with _cache_lock:
            found = _cache.setdefault(key, found)
    return found


def graph(*, session: Session) -> nx.DiGraph:
    """The catalog's dependency graph (shared: callers must not change it)."""
    return _derived(session).graph


def single_points_of_failure(*, session: Session) -> list[str]:
    """Entries whose failure alone breaks every critical user journey."""
    return _derived(session).spofs


def focus(*, session: Session, slug: str, known_version: str | None = None) -> Focus:
    """Blast radius, SPOF flag, direct dependents and the neighbourhood figure of `slug`;
    `known_version`: the `version_column` the caller read in this transaction."""
    derived = _derived(session, known_version)
    with derived.lock:
        found = derived.focus.get(slug)
    if found is not None:
        return found
    full, spofs = derived.graph, set(derived.spofs)
    impacts = dependency_graph.blast_radius(full, slug, derived.critical)
    figure = dependency_graph.figure_spec(full, focus=slug, spofs=spofs, impacts=impacts,
                                          nodes=dependency_graph.neighbourhood(full, slug))
    dependents = sorted(((n, full.nodes[n]["name"]) for n in full.predecessors(slug)),
                        key=lambda pair: (pair[1], pair[0]))
    found = Focus(impacts=impacts, is_spof=slug in spofs,
                  dependents=dependents, graph_html=figure_html(figure, div_id="service-graph"))
    with derived.lock:
        if len(derived.focus) >= FOCUS_PER_VERSION:
            derived.focus.clear()
        derived.focus[slug] = found
    return found
