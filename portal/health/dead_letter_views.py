"""The dead-letter page (a child blueprint of `health`): each service's DLQs, loaded per
service, with Redrive and Discard for the on-call engineers."""
from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for

from portal.auth.access import audit_action, require_roles
from portal.extensions import db, htmx
from portal.health import dead_letters
from portal.health.blueprint import ONCALL
from portal.health.blueprint import dead_letters_bp as bp
from portal.rendering import page_or_fragment

# Queue names as the services declare them: words of letters, digits, dots, dashes.
QUEUE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,119}$")


@bp.get("/")
@require_roles(*ONCALL)
def index():
    """Every probed service, its dead letters loaded by its own fragment."""
    return render_template("health/dead_letters.html",
                           services=dead_letters.probed_services(session=db.session))


@bp.get("/<slug>")
@require_roles(*ONCALL)
def service(slug: str):
    """One service's dead-letter queues (a fragment, or a page on its own)."""
    found = dead_letters.of_service(session=db.session, slug=slug)
    if found is None:
        abort(404, description="No such service with a base URL.")
    return page_or_fragment("health/dead_letters_service.html", "health/_dead_letters.html",
                            found=found)


@bp.post("/<slug>/<queue>/<action>")
@require_roles(*ONCALL)
def act(slug: str, queue: str, action: str):
    """Redrive (back to the queue, attempts reset) or discard one queue's dead letters."""
    if action not in dead_letters.ACTIONS or not QUEUE.match(queue):
        abort(404)
    if request.form.get("confirm") != "yes":
        abort(422, description="Tick the box to confirm: this changes every message of "
                               "the queue.")
    try:
        count = dead_letters.act(session=db.session, slug=slug, queue=queue, action=action)
    except LookupError:
        abort(404, description="No such service with a base URL.")
    except dead_letters.DeadLetterError as exc:
        audit_action(f"health.dead_letters_{action}", target_type="queue",
                     target_id=f"{slug}/{queue}", outcome="failure",
                     details={"error": str(exc)[:500]})
        abort(502, description=str(exc))
    audit_action(f"health.dead_letters_{action}", target_type="queue",
                 target_id=f"{slug}/{queue}", details={"count": count})
    done = "redriven to the queue" if action == "redrive" else "discarded"
    flash(f"{count} message(s) of {queue} {done}.", "success")
    if htmx:
        return redirect(url_for("health.dead_letters.service", slug=slug), 303)
    return redirect(url_for("health.dead_letters.index"), 303)
