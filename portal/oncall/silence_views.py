"""Silence pages (a child blueprint of `oncall`): list, create with a matcher editor and a
preview, expire early, re-create from an expired one; the hygiene sections (ending soon,
matching no current alert) and extending a silence."""
from __future__ import annotations

from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal.auth.access import audit_action, require_roles
from portal.db import utcnow
from portal.extensions import db, htmx
from portal.integrations.alertmanager import (
    AlertmanagerCluster,
    AlertmanagerRejected,
    AlertmanagerUnavailable,
    Matcher,
)
from portal.oncall import alerts, forms, silence_hygiene, silence_ledger, silences
from portal.oncall.am import alert_cache, am_client
from portal.oncall.blueprint import ONCALL, to_utc
from portal.oncall.blueprint import silences_bp as bp
from portal.rendering import page_or_fragment

OPERATOR_FLAGS = {"=": (False, True), "!=": (False, False), "=~": (True, True),
                  "!~": (True, False)}


class NotConnected(Exception):
    """No Alertmanager is configured: silences cannot exist here, which is no outage."""


def _client() -> AlertmanagerCluster:
    client = am_client()
    if client is None:
        # `portal dev` records why it could not start one; otherwise it was never set.
        reason = (current_app.config.get("ALERTING_NOT_CONNECTED")
                  or "no Alertmanager is configured (ALERTMANAGER_URL).")
        raise NotConnected(f"Alerting is not connected: {reason} Silences live in "
                           "Alertmanager, so none can be listed or created here.")
    return client


def _not_connected_notice() -> str | None:
    try:
        _client()
    except NotConnected as exc:
        return str(exc)
    return None


def _check_matchers(matchers: tuple[Matcher, ...]) -> None:
    """Raise the SilenceError creating a silence with these matchers would raise.

    The window and justification are judged on submit; a neutral one-hour window and
    comment stand in for them so the preview applies exactly the matcher rules of create.
    """
    now = utcnow()
    silences.validate(silences.SilenceRequest(matchers, now, now + timedelta(hours=1),
                                              "matcher check"),
                      max_hours=max(1, current_app.config["ONCALL_SILENCE_MAX_HOURS"]), now=now)


def matchers_of(form: forms.SilenceForm) -> tuple[Matcher, ...]:
    """The filled-in matcher rows; rows without a label name are ignored."""
    out = []
    for entry in form.matchers.entries:
        f = entry.form
        if (f.name.data or "").strip():
            operator = f.operator.data or "="
            if operator not in OPERATOR_FLAGS:
                raise silences.SilenceError(f"Unknown operator {operator!r}.")
            is_regex, is_equal = OPERATOR_FLAGS[operator]
            out.append(Matcher(f.name.data.strip(), f.value.data or "", is_regex, is_equal))
    return tuple(out)


def request_of(form: forms.SilenceForm) -> silences.SilenceRequest:
    """The silence the form describes: start (default now) and a duration or an end."""
    starts = to_utc(form.starts_at.data) if form.starts_at.data else utcnow()
    if form.duration.data:
        ends = starts + timedelta(hours=int(form.duration.data))
    elif form.ends_at.data:
        ends = to_utc(form.ends_at.data)
    else:
        raise silences.SilenceError("Choose a duration or an end time.")
    return silences.SilenceRequest(matchers_of(form), starts, ends, form.comment.data or "",
                                   form.incident_id.data)


def _hygiene(client: AlertmanagerCluster, active: list) -> dict:
    """The hygiene sections of these active silences against the current alerts."""
    now = utcnow()
    return {"expiring": silence_hygiene.expiring_soon(silences=active, now=now),
            "unmatched": silence_hygiene.matching_nothing(silences=active,
                                                          alerts=client.list_alerts()),
            "max_hours": current_app.config["ONCALL_SILENCE_MAX_HOURS"]}


@bp.get("/")
@require_roles(*ONCALL)
def index():
    """Silences by state: active, pending, expired; and those ending soon or idle."""
    grouped, error, not_connected = {state: [] for state in silences.STATES}, None, None
    hygiene = {"expiring": [], "unmatched": [], "max_hours": 0}
    unreachable, recreated = (), set()
    try:
        client = _client()
        unreachable = _reconcile(client)
        grouped = silences.by_state(client=client)
        hygiene = _hygiene(client, grouped["active"])
        shown = grouped["active"] + grouped["pending"]
        recreated = silence_ledger.recreated_ids(session=db.session,
                                                 silence_ids=[s.id for s in shown])
    except NotConnected as exc:
        not_connected = str(exc)
    except AlertmanagerUnavailable as exc:
        error = str(exc)
    return render_template("oncall/silences.html", grouped=grouped, error=error,
                           not_connected=not_connected, unreachable=unreachable,
                           recreated=recreated, recreated_note=silence_ledger.RECREATED_NOTE,
                           **hygiene), 503 if error else 200


def _reconcile(client: AlertmanagerCluster) -> tuple[str, ...]:
    """Re-create the portal's silences Alertmanager lost before listing (committed now,
    so the beat task does not re-create them again meanwhile); returns the cluster
    members that did not answer."""
    listed = client.list_silences()
    done = silence_ledger.reconcile(session=db.session, client=client, listed=listed)
    db.session.commit()
    if done:
        alert_cache().clear()
        flash(f"{len(done)} silence(s) {silence_ledger.RECREATED_NOTE}.", "warning")
    return listed.unreachable


@bp.get("/hygiene")
@require_roles(*ONCALL)
def hygiene():
    """Active silences ending within 24 hours and those matching no current alert."""
    context, status = {"expiring": [], "unmatched": [], "max_hours": 0, "error": None}, 200
    try:
        client = _client()
        context.update(_hygiene(client, silences.by_state(client=client)["active"]))
    except NotConnected as exc:
        context["error"] = str(exc)
    except AlertmanagerUnavailable as exc:
        context["error"], status = f"Alertmanager is unreachable. ({exc})", 503
    return page_or_fragment("oncall/silence_hygiene.html", "oncall/_silence_hygiene.html",
                            http_status=status, **context)


def _prefill(form: forms.SilenceForm, silence_id: str) -> None:
    old = _client().get_silence(silence_id)
    flags = {v: k for k, v in OPERATOR_FLAGS.items()}
    while len(form.matchers.entries) < len(old.matchers):
        form.matchers.append_entry()
    for entry, m in zip(form.matchers.entries, old.matchers):
        entry.form.name.data, entry.form.value.data = m.name, m.value
        entry.form.operator.data = flags[(m.is_regex, m.is_equal)]
    form.comment.data = old.comment


def _form_page(form, *, error=None, status=200):
    return render_template("oncall/silence_new.html", form=form, error=error,
                           max_hours=current_app.config["ONCALL_SILENCE_MAX_HOURS"]), status


@bp.get("/new")
@require_roles(*ONCALL)
def new():
    """The silence form; `?from=<id>` fills it from an existing (e.g. expired) silence."""
    form = forms.SilenceForm(formdata=None)
    if request.args.get("m_name"):  # a link from an alert presets one matcher
        form.matchers.entries[0].form.name.data = request.args["m_name"][:100]
        form.matchers.entries[0].form.value.data = request.args.get("m_value", "")[:500]
    if request.args.get("from"):
        try:
            _prefill(form, request.args["from"])
        except (AlertmanagerUnavailable, AlertmanagerRejected, NotConnected) as exc:
            return _form_page(form, error=f"Could not load that silence: {exc}")
    return _form_page(form, error=_not_connected_notice())


@bp.get("/preview")
@require_roles(*ONCALL)
def preview():
    """Which current alerts the matchers in the form would silence (a fragment)."""
    form = forms.SilenceForm(request.args, meta={"csrf": False})
    error, found, matchers = None, [], ()
    try:
        client = _client()  # first: a count of zero would hide that nothing is connected
        matchers = matchers_of(form)
        if not matchers:
            raise silences.SilenceError("Add at least one matcher to see what it would silence.")
        _check_matchers(matchers)
        found = [alerts.view_of(a) for a in silences.preview(client=client, matchers=matchers)]
    except (silences.SilenceError, AlertmanagerRejected, AlertmanagerUnavailable,
            NotConnected) as exc:
        error = str(exc)
    return page_or_fragment("oncall/silence_preview.html", "oncall/_silence_preview.html",
                            found=found, error=error, matchers=matchers)


@bp.post("/")
@require_roles(*ONCALL)
def create():
    """Create the silence in Alertmanager as the signed-in user."""
    form = forms.SilenceForm()
    if not form.validate_on_submit():
        return _form_page(form, error="Check the fields marked below.", status=422)
    try:
        silence_request = request_of(form)
        silence_id = silences.create(
            session=db.session, client=_client(), request=silence_request,
            actor_email=current_user.email,
            max_hours=current_app.config["ONCALL_SILENCE_MAX_HOURS"])
    except (silences.SilenceError, AlertmanagerRejected) as exc:
        return _form_page(form, error=str(exc), status=422)
    except NotConnected as exc:
        return _form_page(form, error=f"{exc} Nothing was created.", status=409)
    except AlertmanagerUnavailable as exc:
        return _form_page(form, error=f"Alertmanager is unreachable; nothing was created. "
                                      f"({exc})", status=503)
    silence_ledger.record(session=db.session, silence_id=silence_id,
                          matchers=silence_request.matchers,
                          starts_at=silence_request.starts_at, ends_at=silence_request.ends_at,
                          created_by=current_user.email, comment=silence_request.comment)
    alert_cache().clear()  # the next board shows the silence's effect, not a cached list
    audit_action("oncall.silence_create", target_type="silence", target_id=silence_id, details={
        "matchers": [m.as_filter() for m in silence_request.matchers],
        "starts_at": silence_request.starts_at.isoformat(),
        "ends_at": silence_request.ends_at.isoformat(), "comment": silence_request.comment,
        "incident_id": silence_request.incident_id})
    flash(f"Silence {silence_id[:8]} created.", "success")
    return redirect(url_for("oncall.silences.index"), 303)


@bp.post("/<silence_id>/expire")
@require_roles(*ONCALL)
def expire(silence_id: str):
    """Expire a silence now."""
    incident_id = request.form.get("incident_id", type=int)
    try:
        old = silences.expire(session=db.session, client=_client(), silence_id=silence_id,
                              actor_email=current_user.email, incident_id=incident_id)
    except silences.SilenceError as exc:
        abort(409, description=str(exc))
    except AlertmanagerRejected:
        abort(404)
    except NotConnected as exc:
        abort(409, description=str(exc))
    except AlertmanagerUnavailable as exc:
        abort(503, description=f"Alertmanager is unreachable; the silence is unchanged. ({exc})")
    silence_ledger.expired(session=db.session, silence_id=silence_id)
    alert_cache().clear()
    audit_action("oncall.silence_expire", target_type="silence", target_id=silence_id,
                 details={"matchers": [m.as_filter() for m in old.matchers]})
    flash(f"Silence {silence_id[:8]} expired.", "success")
    return redirect(url_for("oncall.silences.index"), 303)


@bp.post("/<silence_id>/extend")
@require_roles(*ONCALL)
def extend(silence_id: str):
    """Make an active silence end later, within ONCALL_SILENCE_MAX_HOURS from now."""
    if not silence_hygiene.SILENCE_ID.fullmatch(silence_id):
        abort(404)
    max_hours = current_app.config["ONCALL_SILENCE_MAX_HOURS"]
    try:
        hours = silence_hygiene.parse_hours(request.form.get("hours"), max_hours=max_hours)
        done = silence_hygiene.extend(session=db.session, client=_client(),
                                      silence_id=silence_id, hours=hours,
                                      actor_email=current_user.email, max_hours=max_hours)
    except silences.SilenceError as exc:
        abort(422, description=str(exc))
    except AlertmanagerRejected:
        abort(404)
    except NotConnected as exc:
        abort(409, description=str(exc))
    except AlertmanagerUnavailable as exc:
        abort(503, description=f"Alertmanager is unreachable; the silence is unchanged. ({exc})")
    silence_ledger.extended(session=db.session, old_id=silence_id, new_id=done.silence_id,
                            ends_at=done.ends_at)
    alert_cache().clear()
    audit_action("oncall.silence_extend", target_type="silence", target_id=done.silence_id,
                 details={"previous_id": silence_id, "hours": hours,
                          "previous_ends_at": done.old.ends_at.isoformat(),
                          "ends_at": done.ends_at.isoformat(),
                          "matchers": [m.as_filter() for m in done.old.matchers]})
    flash(f"Silence {done.silence_id[:8]} now ends {hours} h from now.", "success")
    # htmx swaps just the hygiene sections; a plain form post lands on the whole page.
    target = "oncall.silences.hygiene" if htmx else "oncall.silences.index"
    return redirect(url_for(target), 303)
