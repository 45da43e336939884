"""My notification rules (a child blueprint of `oncall`): every on-call responder edits
their own phone number, time zone, quiet hours and default/important rules, and can send
themselves a test page; admins may look at anyone's rules (read only)."""
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
from sqlalchemy import func, select

from portal.auth import service as accounts
from portal.auth.access import audit_action, require_roles
from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.extensions import db
from portal.oncall import notify, rule_forms, rule_service, rule_trial
from portal.oncall.access import require_responder
from portal.oncall.blueprint import rules_bp as bp
from portal.oncall.rule_models import RULE_KINDS
from portal.rendering import page_or_fragment

TEST_ACTION = "oncall.notification_test"
TEST_COOLDOWN = timedelta(seconds=60)  # every click may cost an SMS and a call


def _me():
    return current_user._get_current_object()


def _page(form, *, status: int = 200, list_errors: dict | None = None, results=None):
    return page_or_fragment(
        "oncall/notification_rules.html", "oncall/_notification_rules_form.html",
        http_status=status, form=form, person=_me(), editable=True,
        list_errors=list_errors or {}, results=results, zones=rule_service.timezones(),
        labels=rule_forms.CHANNEL_LABELS, lists=rule_forms.LISTS)


@bp.get("/me/notifications")
@require_responder
def mine():
    """The signed-in person's rules, ready to edit."""
    form = rule_forms.RulesForm(formdata=None)
    rule_forms.fill(form, rule_service.plan_for(session=db.session, user=_me()))
    return _page(form)


@bp.post("/me/notifications/rows")
@require_responder
def edit_rows():
    """Add, remove or move a row of the submitted form; saves nothing (Save does)."""
    form = rule_forms.RulesForm()
    if not rule_forms.apply_op(form, request.form.get("op", "")[:40]):
        abort(400, description="That row change is not possible.")
    return _page(form)


edit_rows.audit_exempt = True  # it only renders the posted form again


@bp.post("/me/notifications")
@require_responder
def save():
    """Validate and save the person's profile and both rule lists."""
    form = rule_forms.RulesForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        plan = rule_service.save(
            session=db.session, user=_me(), phone=form.phone.data,
            timezone=form.timezone.data or "", quiet_start=form.quiet_start.data,
            quiet_end=form.quiet_end.data,
            rules={kind: rule_forms.rules_of(form, kind) for kind in RULE_KINDS})
    except rule_service.RulesError as exc:
        errors = {}
        if exc.field in RULE_KINDS:
            errors[exc.field] = str(exc)
        else:
            field = getattr(form, exc.field, form.phone)
            field.errors = [*field.errors, str(exc)]
        return _page(form, status=422, list_errors=errors)
    audit_action("oncall.notification_rules_update", target_type="user", target_id=_me().id,
                 details={"phone_set": bool(plan.phone), "timezone": plan.timezone,
                          "quiet": [str(plan.quiet.start), str(plan.quiet.end)]
                          if plan.quiet else None,
                          "rules": {kind: [vars(r) for r in plan.rules[kind]]
                                    for kind in RULE_KINDS}})
    flash("Your notification rules are saved.", "success")
    return redirect(url_for("oncall.rules.mine"), 303)


@bp.post("/me/notifications/test")
@require_responder
def send_test():
    """Send one test message per channel of the person's rules; the results as a fragment."""
    me = _me()
    recent = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == TEST_ACTION, AuditEntry.actor_id == me.id,
        AuditEntry.at > utcnow() - TEST_COOLDOWN))
    if recent:
        # Answered in the results box (htmx swaps 4xx there too): the generic error region
        # sits at the top of the page, far above the button that was just pressed.
        return page_or_fragment(
            "oncall/notification_test.html", "oncall/_notification_test_results.html",
            http_status=429, results=[],
            refused="A test page was sent less than a minute ago; wait a minute, then try "
                    "again.")
    plan = rule_service.plan_for(session=db.session, user=me)
    results = rule_trial.send_test(user=me, plan=plan,
                                   channels=notify.Channels.from_config(current_app.config))
    audit_action(TEST_ACTION, target_type="user", target_id=me.id,
                 outcome="success" if results and all(r.ok for r in results) else "failure",
                 details={"results": [[r.channel, r.ok, r.detail] for r in results]})
    return page_or_fragment("oncall/notification_test.html",
                            "oncall/_notification_test_results.html", results=results)


@bp.get("/people/<int:user_id>/notifications")
@require_roles("admin")
def person(user_id: int):
    """Anyone's rules, read only (admins: who would be called, when)."""
    user = accounts.get(session=db.session, user_id=user_id)
    if user is None:
        abort(404)
    return render_template("oncall/notification_rules_view.html", person=user,
                           plan=rule_service.plan_for(session=db.session, user=user),
                           labels=rule_forms.CHANNEL_LABELS)
