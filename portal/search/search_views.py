"""The search page and the header box's live results (htmx)."""
from flask import abort, render_template, request
from flask_login import current_user

from portal.auth.access import require_roles
from portal.extensions import db
from portal.search import service
from portal.search.blueprint import bp


@bp.get("/")
@require_roles(*service.INTERNAL)
def index():
    """Full results on a page of their own; the header box asks for the short list."""
    try:
        query = service.clean_query(request.args.get("q"))
    except service.BadQuery as exc:
        abort(400, description=str(exc))
    hits = service.search(session=db.session, user=current_user, query=query)
    if request.headers.get("HX-Request") and request.args.get("box"):
        return render_template("search/_results.html", hits=hits, query=query)
    return render_template("search/index.html", groups=service.grouped(hits), query=query)
