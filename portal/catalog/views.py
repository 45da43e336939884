"""Catalog pages: services, one service, clusters."""
from flask import Blueprint, abort, render_template, request

from portal.auth.access import require_roles
from portal.catalog import service as catalog
from portal.catalog.models import SERVICE_KINDS
from portal.extensions import db
from portal.rendering import page_or_fragment

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
STAFF = ("developer", "oncall", "manager")


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
    services = catalog.list_services(session=db.session, team=request.args.get("team") or None,
                                     kind=kind, tier=tier)
    return page_or_fragment("catalog/index.html", "catalog/_rows.html", services=services,
                            teams=catalog.list_teams(session=db.session), kinds=SERVICE_KINDS,
                            selected=request.args)


@bp.get("/services/<slug>")
@require_roles(*STAFF)
def service_detail(slug: str):
    """A service: purpose, owner, SLO targets, dependencies both ways, failure modes."""
    service = catalog.get_service(session=db.session, slug=slug)
    if service is None:
        abort(404)
    return render_template("catalog/service.html", service=service,
                           dependents=catalog.dependents_of(session=db.session, service=service))


@bp.get("/clusters")
@require_roles(*STAFF)
def clusters():
    """The Kubernetes clusters: node groups and namespaces."""
    return render_template("catalog/clusters.html",
                           clusters=catalog.list_clusters(session=db.session))
