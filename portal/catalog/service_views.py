"""Catalog pages: services, one service, search, the dependency graph, clusters.

Runbooks, scorecards, descriptor import/export and the rest live in their own view modules
on the same Blueprint.
"""
from flask import abort, current_app, render_template, request, url_for

from portal.auth.access import require_roles
from portal.catalog import entity_store, graph_cache, readiness, service_page
from portal.catalog import graph as dependency_graph
from portal.catalog import service as catalog
from portal.catalog.blueprint import STAFF, bp, plot
from portal.catalog.models import SERVICE_KINDS, Service
from portal.extensions import db
from portal.rendering import page_or_fragment


@bp.get("/")
@require_roles(*STAFF)
def index():
    """The services of Meridian, filterable by team, kind and tier."""
    kind = request.args.get("kind") or None
    tier = request.args.get("tier", type=int)
    if kind is not None and kind not in SERVICE_KINDS:
        abort(400, description=f"Unknown kind {kind!r}; choose one of {', '.join(SERVICE_KINDS)}.")
    if tier is not None and tier not in (1, 2, 3):
        abort(400, description="Tier is 1, 2 or 3.")
    found = catalog.page_of_services(session=db.session, team=request.args.get("team") or None,
                                     kind=kind, tier=tier, page=_page_number())
    return page_or_fragment("catalog/index.html", "catalog/_rows.html", services=found.services,
                            listing=found, teams=catalog.team_choices(session=db.session),
                            kinds=SERVICE_KINDS, selected=request.args)


def _page_number() -> int:
    raw = request.args.get("page") or "1"
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        abort(400, description="The page is a whole number.")
    return int(raw)


@bp.get("/search")
@require_roles(*STAFF)
def search():
    """Full-text search over catalog entries and runbooks."""
    query = (request.args.get("q") or "").strip()
    if len(query) > 200:
        abort(400, description="Search for at most 200 characters.")
    hits = catalog.search(session=db.session, query=query) if query else []
    return page_or_fragment("catalog/search.html", "catalog/_search_results.html",
                            query=query, hits=hits)


@bp.get("/services/<slug>")
@require_roles(*STAFF)
def service_detail(slug: str):
    """A service: facts, dependencies both ways, Backstage relations, blast radius graph,
    panels, failure modes."""
    detail = service_page.service_detail(session=db.session, slug=slug)
    if detail is None:
        abort(404)
    service = detail.service
    around = graph_cache.focus(session=db.session, slug=slug, known_version=detail.graph_version)
    relations = entity_store.relations_of_service(session=db.session, service=service) \
        if detail.has_relations else []
    return render_template(
        "catalog/service.html", service=service, dependents=around.dependents,
        relations=relations, impacts=around.impacts, is_spof=around.is_spof,
        graph_html=around.graph_html, oncall_url=_oncall_url(),
        team_people=detail.team_people, catalog_detail=detail)


def _oncall_url() -> str | None:
    # The on-call area is another domain's: link to it only once its blueprint exists.
    return url_for("oncall.index") if "oncall.index" in current_app.view_functions else None


@bp.get("/graph")
@require_roles(*STAFF)
def graph():
    """The whole dependency graph, single points of failure, and one entry's blast radius."""
    full = dependency_graph.build(session=db.session)
    focus = request.args.get("focus") or None
    if focus is not None and focus not in full:
        abort(404, description=f"No catalog entry {focus!r}.")
    spofs = dependency_graph.single_points_of_failure(full)
    rows = [{"slug": n, **full.nodes[n], "depends_on": sorted(full.successors(n)),
             "used_by": sorted(full.predecessors(n)),
             "radius": dependency_graph.blast_radius(full, n)} for n in sorted(full.nodes)]
    redundancy = catalog.redundancy_by_slug(session=db.session)
    return render_template(
        "catalog/graph.html", rows=rows, spofs=spofs, focus=focus,
        impacts=dependency_graph.blast_radius(full, focus) if focus else [],
        remediations=catalog.spof_remediations(), redundancy=redundancy,
        journeys=dependency_graph.critical_services(full),
        graph_html=plot(dependency_graph.figure(full, focus=focus, spofs=set(spofs)),
                        "catalog-graph"))


@bp.get("/clusters")
@require_roles(*STAFF)
def clusters():
    """The Kubernetes clusters: node groups and namespaces."""
    return render_template("catalog/clusters.html",
                           clusters=catalog.list_clusters(session=db.session))


@bp.app_template_global()
def catalog_panel(service: Service, detail: service_page.ServiceDetail | None = None) -> dict:
    """Scorecard summary and runbooks of a service, for templates/catalog/_service_panel.html;
    `detail`: what the page read of the service already (its runbooks)."""
    resolved = detail.runbooks if detail is not None and detail.service is service else None
    card = readiness.evaluate(session=db.session, service=service, resolved=resolved)
    return {"card": card, "runbooks": card.runbooks}
