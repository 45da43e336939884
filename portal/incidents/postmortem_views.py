"""Postmortems, action items, metrics, team pages and the tenant status page."""
from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.access import audit_action, require_roles
from portal.catalog import service as catalog
from portal.catalog import team_members
from portal.db import utcnow
from portal.extensions import db, htmx
from portal.incidents import charts, metrics, postmortems, service
from portal.incidents.blueprint import STAFF, bp, load
from portal.incidents.forms import ActionItemForm, ActionStatusForm, PostmortemForm
from portal.incidents.models import ACTION_STATUSES
from portal.rendering import page_or_fragment
from portal.tenants import service as tenants


def _postmortem_page(incident, postmortem, form, status=200):
    items = postmortems.action_items(session=db.session, incident_id=incident.id)
    return render_template("incidents/postmortem.html", incident=incident, form=form,
                           postmortem=postmortem, items=items, item_form=ActionItemForm(),
                           sections=postmortems.SECTIONS,
                           overdue=postmortems.is_overdue(postmortem)), status


@bp.get("/<int:incident_id>/postmortem")
@require_roles(*STAFF)
def postmortem(incident_id: int):
    """The blameless postmortem, drafted from the template and the timeline on first open."""
    incident = load(incident_id)
    pm = incident.postmortem or postmortems.draft(session=db.session, incident=incident)
    return _postmortem_page(incident, pm, PostmortemForm(obj=pm))


@bp.post("/<int:incident_id>/postmortem")
@require_roles(*STAFF)
def save_postmortem(incident_id: int):
    """Save the postmortem, or save and mark it complete."""
    incident, form = load(incident_id), PostmortemForm()
    pm = postmortems.start(session=db.session, incident=incident)
    complete = request.form.get("complete") == "1"
    if not form.validate_on_submit():
        return _postmortem_page(incident, pm, form, 422)
    try:
        postmortems.save(session=db.session, postmortem=pm, fields=form.data,
                         actor_email=current_user.email, complete=complete)
    except ValueError as exc:
        form.form_errors.append(str(exc))
        return _postmortem_page(incident, pm, form, 422)
    audit_action("incidents.postmortem", target_type="incident", target_id=incident.id,
                 details={"complete": complete})
    return redirect(url_for("incidents.postmortem", incident_id=incident.id), 303)


@bp.get("/<int:incident_id>/postmortem.md")
@require_roles(*STAFF)
def export_postmortem(incident_id: int):
    """The postmortem as a Markdown download."""
    incident = load(incident_id)
    if incident.postmortem is None:
        abort(404, description="This incident has no postmortem yet.")
    text = postmortems.to_markdown(postmortem=incident.postmortem, items=postmortems.action_items(
        session=db.session, incident_id=incident.id))
    return Response(text, mimetype="text/markdown", headers={
        "Content-Disposition": f'attachment; filename="postmortem-{incident.id}.md"'})


@bp.post("/<int:incident_id>/action-items")
@require_roles(*STAFF)
def add_action_item(incident_id: int):
    """Add a follow-up with an owner and a due date."""
    incident, form = load(incident_id), ActionItemForm()
    if not form.validate_on_submit():
        abort(422, description=" ".join(e for errs in form.errors.values() for e in errs))
    item = postmortems.add_action_item(session=db.session, incident=incident,
                                       title=form.title.data, owner_email=form.owner_email.data,
                                       due_date=form.due_date.data)
    audit_action("incidents.action_item", target_type="action_item", target_id=item.id,
                 details={"incident_id": incident.id, "owner": item.owner_email})
    back = "incidents.show" if request.form.get("next_page") == "incident" else \
        "incidents.postmortem"
    return redirect(url_for(back, incident_id=incident.id), 303)


@bp.post("/action-items/<int:item_id>/status")
@require_roles(*STAFF)
def action_item_status(item_id: int):
    """Move an action item along; the row comes back for htmx."""
    item = postmortems.get_action_item(session=db.session, item_id=item_id) or abort(404)
    form = ActionStatusForm()
    if not form.validate_on_submit():
        abort(422, description=f"Choose one of {', '.join(ACTION_STATUSES)}.")
    postmortems.set_action_status(session=db.session, item=item, status=form.status.data)
    audit_action("incidents.action_item_status", target_type="action_item", target_id=item.id,
                 details={"status": item.status})
    if htmx:
        return render_template("incidents/_action_row.html", item=item, today=utcnow().date(),
                               statuses=ACTION_STATUSES)
    return redirect(url_for("incidents.action_items"), 303)


def _action_context() -> dict:
    status = request.args.get("status", "not_done")
    if status not in ("not_done", "all", *ACTION_STATUSES):
        abort(400, description="Unknown action item status filter.")
    owner = request.args.get("owner") or None
    return {"items": postmortems.action_items(session=db.session, owner=owner,
                                              status=None if status == "all" else status),
            "status": status, "owner": owner or "", "statuses": ACTION_STATUSES,
            "today": utcnow().date()}


@bp.get("/action-items")
@require_roles(*STAFF)
def action_items():
    """Action items across incidents, tracked to completion."""
    return page_or_fragment("incidents/action_items.html", "incidents/_action_table.html",
                            **_action_context())


@bp.get("/metrics")
@require_roles("manager", "oncall")
def metrics_page():
    """MTTA, MTTR, counts and postmortem completion, as charts and tables."""
    months = request.args.get("months", default=12, type=int)
    if not 1 <= months <= 60:
        abort(400, description="Choose between 1 and 60 months.")
    since = metrics.since_months(months)
    data = {name: fn(session=db.session, since=since) for name, fn in (
        ("month", metrics.by_month), ("severity", metrics.by_severity),
        ("service", metrics.by_service), ("completion", metrics.postmortem_completion))}
    chart_html = {
        "month": charts.mtta_mttr(data["month"], title="MTTA and MTTR by month", div_id="c-month"),
        "severity": charts.mtta_mttr(data["severity"], title="By severity", div_id="c-sev"),
        "service": charts.mtta_mttr(data["service"], title="By service", div_id="c-svc"),
        "count": charts.counts(data["service"], title="Incidents by service", div_id="c-count"),
        "completion": charts.completion(data["completion"], div_id="c-pm"),
    }
    return render_template("incidents/metrics.html", data=data, charts=chart_html,
                           months=months, completion=metrics.totals(data["completion"]))


@bp.get("/teams/<slug>")
@require_roles(*STAFF)
def team(slug: str):
    """A team's incidents, overdue postmortems and open action items."""
    found = next((t for t in catalog.list_teams(session=db.session) if t.slug == slug), None)
    if found is None:
        abort(404)
    incidents = [i for s in found.services
                 for i in service.list_incidents(session=db.session, service=s.slug, limit=50)]
    unique = sorted({i.id: i for i in incidents}.values(), key=lambda i: i.opened_at,
                    reverse=True)
    return render_template(
        "incidents/team.html", team=found, incidents=unique,
        team_people=team_members.members(session=db.session, team=found),
        overdue=postmortems.overdue(session=db.session, team_slug=slug),
        items=postmortems.action_items(session=db.session, team_slug=slug, status="not_done"),
        today=utcnow().date())


@bp.get("/status/<slug>")
@require_roles("tenant_viewer", *STAFF)
def tenant_status(slug: str):
    """A tenant's status page: its customer-facing incidents and their updates only."""
    tenant = tenants.get_by_slug(session=db.session, slug=slug)
    if tenant is None or (current_user.tenant_id not in (None, tenant.id)):
        abort(404)
    incidents = service.for_tenant(session=db.session, tenant_id=tenant.id)
    return render_template("incidents/tenant_status.html", tenant=tenant, incidents=incidents,
                           updates={i.id: service.updates(session=db.session, incident_id=i.id)
                                    for i in incidents})
