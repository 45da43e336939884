"""Incident pages: list, declare, the live incident page and its changes.

Postmortems, action items, metrics, team and tenant pages live in `postmortem_views.py`;
the panels other domains include are fed by `panel_views.py`.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from flask import (
    abort,
    current_app,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice

from portal.auth.access import audit_action, require_roles
from portal.catalog import service as catalog
from portal.extensions import db, htmx
from portal.incidents import alerts, page_cache, service, timeline
from portal.incidents.blueprint import RESPONDERS, STAFF, bp, load, run, suspects_context
from portal.incidents.forms import (
    CustomerUpdateForm,
    DeclareForm,
    FromAlertForm,
    NoteForm,
    RoleForm,
    SeverityForm,
)
from portal.incidents.models import (
    ENTRY_KINDS,
    ROLES,
    SEVERITIES,
    SEVERITY_DEFINITIONS,
    STATUSES,
)
from portal.integrations import grafana_links
from portal.rendering import page_or_fragment, wants_fragment
from portal.tenants import service as tenants

POLL_SECONDS = 3


def _declare_form() -> DeclareForm:
    form = DeclareForm()
    form.services.choices = [SelectChoice(s.slug, s.name)
                             for s in catalog.list_services(session=db.session)]
    form.tenants.choices = [SelectChoice(t.slug, t.name)
                            for t in tenants.list_all(session=db.session)]
    return form


@bp.get("/")
@require_roles(*STAFF)
def index():
    """Incidents, filterable by status, severity and service; alerts waiting for a human."""
    status, severity = request.args.get("status") or None, request.args.get("severity") or None
    if status not in (None, "open", *STATUSES) or severity not in (None, *SEVERITIES):
        abort(400, description="Filter by a known status (or 'open') and severity (sev1-sev4).")
    incidents = service.list_rows(session=db.session, status=status, severity=severity,
                                  service=request.args.get("service") or None)
    return page_or_fragment("incidents/index.html", "incidents/_rows.html", incidents=incidents,
                            selected=request.args, statuses=STATUSES, severities=SEVERITIES,
                            waiting=alerts.unlinked_firing(session=db.session))


@bp.route("/declare", methods=["GET", "POST"])
@require_roles(*STAFF)
def declare():
    """Declare an incident from scratch or from a service page."""
    form = _declare_form()
    if request.method == "GET":
        form.services.data = request.args.getlist("service")
        return render_template("incidents/declare.html", form=form,
                               severity_definitions=SEVERITY_DEFINITIONS)
    if not form.validate_on_submit():
        return render_template("incidents/declare.html", form=form,
                               severity_definitions=SEVERITY_DEFINITIONS), 422
    incident = run(service.declare, title=form.title.data, severity=form.severity.data,
                   summary=form.summary.data or "", service_slugs=form.services.data,
                   tenant_slugs=form.tenants.data, customer_facing=form.customer_facing.data,
                   actor_email=current_user.email)
    audit_action("incidents.declare", target_type="incident", target_id=incident.id,
                 details={"severity": incident.severity, "services": form.services.data})
    return redirect(url_for("incidents.show", incident_id=incident.id), 303)


@bp.post("/alerts/<fingerprint>/declare")
@require_roles(*RESPONDERS)
def declare_from_alert(fingerprint: str):
    """Declare an incident from an alert that did not open one by itself."""
    alert = alerts.get(session=db.session, fingerprint=fingerprint) or abort(404)
    form = FromAlertForm()
    if not form.validate_on_submit():
        abort(422, description=" ".join(form.severity.errors))
    incident = run(alerts.declare_from, alert=alert, severity=form.severity.data,
                   actor_email=current_user.email)
    audit_action("incidents.declare", target_type="incident", target_id=incident.id,
                 details={"severity": incident.severity, "alert": alert.fingerprint})
    return redirect(url_for("incidents.show", incident_id=incident.id), 303)


# The Respond section's fields look the same to every responder for one severity (a GET
# carries no form data and the choices are fixed): rendered once per process. Its forms'
# CSRF tokens are written by the template.
_respond_fields: dict[str, dict[str, Markup]] = {}


def _respond(severity: str) -> dict[str, Markup]:
    found = _respond_fields.get(severity)
    if found is None:
        field = get_template_attribute("_field.html", "field")
        role_form = RoleForm(formdata=None)
        found = _respond_fields[severity] = {
            "severity": field(SeverityForm(formdata=None, severity=severity).severity),
            "role": field(role_form.role) + field(role_form.email)}
    return found


def _kind_arg() -> str | None:
    kind = request.args.get("kind") or None
    if kind is not None and kind not in ENTRY_KINDS:
        abort(400, description=f"Unknown entry kind {kind!r}.")
    return kind


@bp.get("/<int:incident_id>")
@require_roles(*STAFF)
def show(incident_id: int):
    """The incident with its live timeline; the timeline alone for htmx (kind filter)."""
    kind = _kind_arg()
    data = page_cache.page_data(session=db.session, incident_id=incident_id,
                                kind=kind) or abort(404)
    incident = data.incident
    # The page lists customer updates only for a customer-facing incident (`data.updates`).
    context = {"incident": incident, "entries": data.entries, "more": data.more, "kind": kind,
               "poll_seconds": POLL_SECONDS, "after_id": data.latest_id, "pins": data.pins,
               "runbooks": data.runbooks, "incident_pages": data.pages,
               "respond_fields": _respond(incident.severity), "updates": data.updates,
               "kinds": ENTRY_KINDS, "incident_roles": ROLES}

    def render(template: str, **more) -> str:
        # A GET carries no form data: the forms are empty but for their CSRF token.
        return render_template(template, **context, **more, note_form=NoteForm(),
                               update_form=CustomerUpdateForm() if incident.customer_facing
                               else None)

    # Grafana links are made for the time of the render: no reuse of a render with them.
    if grafana_links.GrafanaConfig.from_settings(current_app.config).url:
        if wants_fragment():
            return render("incidents/_timeline.html")
        return render("incidents/show.html", **suspects_context(incident))
    reuse = partial(page_cache.reused_html, data=data, kind=kind,
                    zone=current_user.timezone or "UTC", now=datetime.now(UTC),
                    csrf_token=str(escape(generate_csrf())))
    if wants_fragment():
        return render_template("incidents/_timeline.html", timeline_html=reuse(
            "timeline", render=lambda: render("incidents/_timeline.html")))
    # The head shows the Respond section and links to pages only to responders.
    head = reuse("head", viewer=(current_user.has_role("oncall", "manager"),),
                 render=lambda: render("incidents/_show_head.html"))
    key_events = reuse("key_events", render=lambda: render("incidents/_key_events.html"))
    tail = reuse("tail", render=lambda: render("incidents/_show_tail.html"))
    return render_template("incidents/show.html", **context, show_head=head,
                           key_events=key_events, show_tail=tail, **suspects_context(incident))


@bp.get("/<int:incident_id>/timeline")
@require_roles(*STAFF)
def timeline_poll(incident_id: int):
    """Only what is new after `after_id` (or, with `before_id`, the entries before it)."""
    incident, kind = load(incident_id), _kind_arg()
    before_id = request.args.get("before_id", type=int)
    if before_id is not None:
        entries, more = timeline.window(session=db.session, incident_id=incident.id, kind=kind,
                                        before_id=before_id)
        return render_template("incidents/_earlier.html", incident=incident, entries=entries,
                               more=more, kind=kind)
    after_id = request.args.get("after_id", default=0, type=int)
    try:
        shown = timeline.parse_pin_ids(request.args.get("pins", ""))
    except ValueError as exc:
        abort(400, description=str(exc))
    polled = timeline.poll(session=db.session, incident_id=incident.id, after_id=after_id,
                           kind=kind)
    pins, repinned = timeline.pin_changes(session=db.session, incident_id=incident.id,
                                          shown=shown, after_id=after_id, kind=kind)
    return render_template("incidents/_poll.html", incident=incident, entries=polled.entries,
                           after_id=polled.next_after_id, kind=kind, poll_seconds=POLL_SECONDS,
                           changed=polled.next_after_id != after_id, incident_roles=ROLES,
                           pins=pins,
                           pins_changed=repinned is not None, repinned=repinned or [])


@bp.post("/<int:incident_id>/notes")
@require_roles(*STAFF)
def add_note(incident_id: int):
    """Add a Markdown note; the form comes back empty and the timeline refreshes."""
    incident, form = load(incident_id), NoteForm()
    error = None if form.validate_on_submit() else " ".join(
        form.body.errors or form.errors.get("csrf_token", []))
    if error is None:
        try:
            entry = timeline.add_note(session=db.session, incident_id=incident.id,
                                      body=form.body.data, actor_email=current_user.email)
        except timeline.NoteRejected as exc:
            error = str(exc)
    if error:
        return render_template("incidents/_note_form.html", incident=incident, note_form=form,
                               note_error=error), 422
    assert entry.body_md is not None  # a note always stores its text
    audit_action("incidents.note", target_type="incident", target_id=incident.id,
                 details={"entry_id": entry.id, "chars": len(entry.body_md)})
    if not htmx:
        return redirect(url_for("incidents.show", incident_id=incident.id), 303)
    return render_template("incidents/_note_form.html", incident=incident,
                           note_form=NoteForm(formdata=None)), 200, {
        "HX-Trigger": "timeline-refresh"}


@bp.post("/<int:incident_id>/entries/<int:entry_id>/pin")
@require_roles(*STAFF)
def pin(incident_id: int, entry_id: int):
    """Pin or unpin a key event."""
    incident = load(incident_id)
    entry = timeline.get_entry(session=db.session, incident_id=incident.id,
                               entry_id=entry_id) or abort(404)
    pinned = request.form.get("pinned") == "1"
    timeline.set_pinned(session=db.session, entry=entry, pinned_=pinned)
    audit_action("incidents.pin", target_type="incident", target_id=incident_id,
                 details={"entry_id": entry_id, "pinned": pinned})
    if htmx:
        return render_template("incidents/_entry.html", entry=entry, incident_id=incident_id,
                               incident=incident)
    return redirect(url_for("incidents.show", incident_id=incident_id), 303)


@bp.post("/<int:incident_id>/status")
@require_roles(*RESPONDERS)
def change_status(incident_id: int):
    """Acknowledge, mitigate, resolve or reopen."""
    incident, to = load(incident_id), request.form.get("to", "")
    previous = incident.status
    run(service.change_status, incident=incident, to=to, actor=current_user)
    audit_action("incidents.status", target_type="incident", target_id=incident.id,
                 details={"from": previous, "to": to})
    return redirect(url_for("incidents.show", incident_id=incident.id), 303)


@bp.post("/<int:incident_id>/severity")
@require_roles(*RESPONDERS)
def change_severity(incident_id: int):
    """Raise or lower the severity."""
    incident, form = load(incident_id), SeverityForm()
    if not form.validate_on_submit():
        abort(422, description=" ".join(form.severity.errors))
    previous = incident.severity
    run(service.change_severity, incident=incident, severity=form.severity.data,
        actor_email=current_user.email)
    audit_action("incidents.severity", target_type="incident", target_id=incident.id,
                 details={"from": previous, "to": incident.severity})
    return redirect(url_for("incidents.show", incident_id=incident.id), 303)


@bp.post("/<int:incident_id>/roles")
@require_roles(*RESPONDERS)
def assign_role(incident_id: int):
    """Name the incident commander, technical lead, communications lead or scribe."""
    incident, form = load(incident_id), RoleForm()
    if not form.validate_on_submit():
        abort(422, description=" ".join(e for errs in form.errors.values() for e in errs))
    run(service.assign_role, incident=incident, role=form.role.data,
        email=form.email.data or None, actor_email=current_user.email)
    audit_action("incidents.role", target_type="incident", target_id=incident.id,
                 details={"role": form.role.data, "email": form.email.data or None})
    return redirect(url_for("incidents.show", incident_id=incident.id), 303)


@bp.post("/<int:incident_id>/updates")
@require_roles(*RESPONDERS)
def publish_update(incident_id: int):
    """Publish a status update to the affected tenants."""
    incident, form = load(incident_id), CustomerUpdateForm()
    if not form.validate_on_submit():
        abort(422, description=" ".join(form.message.errors))
    update = run(service.publish_update, incident=incident, message=form.message.data,
                 actor_email=current_user.email)
    audit_action("incidents.customer_update", target_type="incident", target_id=incident.id,
                 details={"update_id": update.id})
    return redirect(url_for("incidents.show", incident_id=incident.id), 303)

