"""Schedule pages: calendar, overrides, hand-off notes, editing, calendar feeds, and the
escalation policies (a child blueprint of `oncall`)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth import service as accounts
from portal.auth.access import audit_action, require_roles
from portal.db import utcnow
from portal.extensions import db
from portal.oncall import (
    candidates,
    escalation,
    feeds,
    forms,
    layering,
    roster_notices,
    service,
    step_forms,
)
from portal.oncall.access import require_responder
from portal.oncall.blueprint import ONCALL, to_utc
from portal.oncall.blueprint import schedules_bp as bp
from portal.oncall.models import LAYERS, SEVERITIES
from portal.oncall.service import OncallError
from portal.rendering import page_or_fragment
from portal.security.redirects import safe_redirect

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
FARTHEST = timedelta(days=2 * 366)  # how far from this week the calendar may be moved


def _local(moment: datetime, fmt: str = "%a %d %b %H:%M") -> str:
    return moment.astimezone(ZoneInfo(current_user.timezone or "UTC")).strftime(fmt)


def _schedule(slug: str):
    schedule = service.get_schedule(session=db.session, slug=slug)
    if schedule is None:
        abort(404)
    return schedule


def _swap_form(schedule, layer: str, form=None):
    """The swap form of one layer, offering its upcoming shifts.

    Without the on-call role a rostered person gives one of their own shifts, so their
    form offers only those; a fresh form preselects a pair the swap accepts.
    """
    fresh = form is None
    form = form or forms.SwapForm(layer=layer, formdata=None)
    shifts = service.swappable_shifts(schedule=schedule, layer=layer)
    own_only = not current_user.has_role(*ONCALL)
    offered = [s for s in shifts if s.who.id == current_user.id] if own_only else shifts
    takeable = [s for s in shifts if s.who.id != current_user.id] if own_only else shifts
    form.give.choices = [_shift_choice(s) for s in offered]
    form.take.choices = [_shift_choice(s) for s in takeable]
    form.people = len({s.who.id for s in shifts})
    form.has_own = bool(offered)
    if fresh:
        pair = forms.default_swap(offered, takeable)
        if pair is not None:
            form.give.data, form.take.data = (s.starts_at.isoformat() for s in pair)
    return form


def _shift_choice(shift) -> SelectChoice:
    # The person first: a narrow select cuts the end of its label off.
    return SelectChoice(shift.starts_at.isoformat(),
                        f"{shift.who.name} · {_local(shift.starts_at)} – {_local(shift.ends_at)}")


def _calendar_range(schedule) -> tuple[date, int]:
    """The first local day and the number of weeks asked for (`from`, `weeks`)."""
    weeks = request.args.get("weeks", "2")
    if weeks not in {str(w) for w in layering.WEEK_CHOICES}:
        abort(400, description="Show 1, 2 or 4 weeks.")
    this_week = layering.week_start(schedule, utcnow())
    raw = request.args.get("from")
    if raw is None:
        return this_week, int(weeks)
    try:
        first = date.fromisoformat(raw) if DAY.fullmatch(raw) else None
    except ValueError:
        first = None
    if first is None:
        abort(400, description="The first day must be a date like 2026-12-07.")
    if abs(first - this_week) > FARTHEST:
        abort(400, description="The calendar reaches at most two years back or ahead.")
    return first, int(weeks)


def _show(schedule, override_form=None, note_form=None, status=200, swap_form=None):
    override_form = override_form or forms.OverrideForm()
    offered = candidates.for_schedule(session=db.session, schedule=schedule)
    override_form.user_email.choices = offered.choices()
    swap_forms = {layer: (swap_form if swap_form is not None and swap_form.layer.data == layer
                          else _swap_form(schedule, layer)) for layer in LAYERS}
    first_day, weeks = _calendar_range(schedule)
    return page_or_fragment(
        "oncall/schedule.html", "oncall/_calendar.html", http_status=status,
        schedule=schedule, swap_forms=swap_forms,
        cal=layering.for_schedule(session=db.session, schedule=schedule, first_day=first_day,
                                  weeks=weeks), this_week=layering.week_start(schedule, utcnow()),
        overrides=service.list_overrides(session=db.session, schedule=schedule),
        notes=service.list_notes(session=db.session, schedule=schedule),
        override_form=override_form, note_form=note_form or forms.NoteForm(),
        may_override=current_user.has_role(*ONCALL),
        feed=service.feed_token(session=db.session, user=current_user),
        roster_notices=roster_notices.open_for(session=db.session, schedule=schedule),
        team_member_ids=offered.member_ids,
        outsiders=candidates.outside_team(session=db.session, schedule=schedule,
                                          candidates=offered))


@bp.get("/schedules/<slug>")
@require_responder
def show(slug: str):
    """A schedule: layers, the coming weeks, overrides and hand-off notes."""
    return _show(_schedule(slug))


@bp.post("/schedules/<slug>/overrides")
@require_roles(*ONCALL)
def add_override(slug: str):
    """Let someone cover a layer for a period."""
    schedule = _schedule(slug)
    form = forms.OverrideForm()
    form.user_email.choices = candidates.for_schedule(session=db.session,
                                                      schedule=schedule).choices()
    if not form.validate_on_submit():
        return _show(schedule, override_form=form, status=422)
    user = accounts.get_by_email(session=db.session, email=form.user_email.data)
    assert user is not None  # why: the form accepts only the e-mail of a candidate just loaded
    try:
        override = service.add_override(
            session=db.session, schedule=schedule, layer=form.layer.data, user=user,
            starts_at=to_utc(form.starts_at.data), ends_at=to_utc(form.ends_at.data),
            reason=form.reason.data or "", actor=current_user._get_current_object())
    except OncallError as exc:
        form.ends_at.errors = [str(exc)]
        return _show(schedule, override_form=form, status=422)
    audit_action("oncall.override_create", target_type="schedule", target_id=schedule.slug,
                 details={"override_id": override.id, "layer": override.layer,
                          "user": user.email, "starts_at": override.starts_at.isoformat(),
                          "ends_at": override.ends_at.isoformat()})
    flash(f"{user.name} covers {override.layer} from {form.starts_at.data:%a %d %b %H:%M}.",
          "success")
    return redirect(url_for("oncall.schedules.show", slug=slug), 303)


@bp.post("/schedules/<slug>/swaps")
@require_responder
def swap_shifts(slug: str):
    """Two people trade upcoming shifts of one layer in one step (two overrides)."""
    schedule = _schedule(slug)
    layer = request.form.get("layer", "")
    if layer not in LAYERS:
        abort(400, description=f"Layer must be one of {', '.join(LAYERS)}.")
    form = _swap_form(schedule, layer, forms.SwapForm())
    if not form.validate_on_submit():
        return _show(schedule, swap_form=form, status=422)
    try:
        first, second = service.swap_shifts(
            session=db.session, schedule=schedule, layer=layer,
            give=datetime.fromisoformat(form.give.data),
            take=datetime.fromisoformat(form.take.data), actor=current_user._get_current_object())
    except OncallError as exc:
        form.take.errors = [str(exc)]
        return _show(schedule, swap_form=form, status=422)
    audit_action("oncall.shift_swap", target_type="schedule", target_id=schedule.slug,
                 details={"layer": layer, "override_ids": [first.id, second.id],
                          "shifts": [[o.user.email, o.starts_at.isoformat(),
                                      o.ends_at.isoformat()] for o in (first, second)]})
    flash(f"Swapped ({layer}): {first.user.name} covers {_local(first.starts_at)}, "
          f"{second.user.name} covers {_local(second.starts_at)}.", "success")
    return redirect(url_for("oncall.schedules.show", slug=slug), 303)


@bp.post("/schedules/<slug>/overrides/<int:override_id>/delete")
@require_roles(*ONCALL)
def delete_override(slug: str, override_id: int):
    """Remove an override."""
    schedule = _schedule(slug)
    try:
        override = service.delete_override(session=db.session, schedule=schedule,
                                           override_id=override_id)
    except LookupError:
        abort(404)
    audit_action("oncall.override_delete", target_type="schedule", target_id=schedule.slug,
                 details={"override_id": override_id, "user": override.user.email})
    return redirect(url_for("oncall.schedules.show", slug=slug), 303)


@bp.post("/schedules/<slug>/notes")
@require_responder
def add_note(slug: str):
    """Leave a hand-off note."""
    schedule = _schedule(slug)
    form = forms.NoteForm()
    if not form.validate_on_submit():
        return _show(schedule, note_form=form, status=422)
    note = service.add_note(session=db.session, schedule=schedule,
                            author=current_user._get_current_object(), body=form.body.data)
    audit_action("oncall.note_create", target_type="schedule", target_id=schedule.slug,
                 details={"note_id": note.id})
    return redirect(url_for("oncall.schedules.show", slug=slug) + "#notes", 303)


def _users_from_lines(text: str, field, allowed: set[int]) -> list | None:
    users = []
    for email in [line.strip() for line in (text or "").splitlines() if line.strip()]:
        user = accounts.get_by_email(session=db.session, email=email)
        if user is None or not user.is_active or not user.is_internal:
            field.errors = [f"No active staff account for {email}."]
            return None
        if user.id not in allowed:
            field.errors = [f"{email} is neither in the schedule's team nor on call."]
            return None
        users.append(user)
    return users


@bp.route("/schedules/<slug>/edit", methods=["GET", "POST"])
@require_roles("manager")
def edit(slug: str):
    """Change the hand-off rule and the ordered participants of each layer."""
    schedule = _schedule(slug)
    offered = candidates.for_schedule(session=db.session, schedule=schedule)
    form = forms.ScheduleForm(obj=None if request.method == "POST" else schedule)
    if request.method == "GET":
        form.handoff_weekday.data = str(schedule.handoff_weekday)
        form.primary.data = "\n".join(u.email for u in schedule.participants("primary"))
        form.secondary.data = "\n".join(u.email for u in schedule.participants("secondary"))
        return render_template("oncall/schedule_edit.html", schedule=schedule, form=form,
                               offered=offered)
    if form.validate_on_submit():
        # Who is offered, plus who already rotates: saving must not force out a person
        # whose shifts are flagged but not yet reassigned.
        allowed = {u.id for u in offered.people} | {m.user_id for m in schedule.members}
        primary = _users_from_lines(form.primary.data, form.primary, allowed)
        secondary = _users_from_lines(form.secondary.data, form.secondary, allowed)
        if primary is not None and secondary is not None:
            try:
                service.update_schedule(
                    session=db.session, schedule=schedule, timezone=form.timezone.data.strip(),
                    handoff_weekday=int(form.handoff_weekday.data),
                    handoff_time=form.handoff_time.data,
                    participants={"primary": primary, "secondary": secondary})
            except OncallError as exc:
                form.timezone.errors = [str(exc)]
            else:
                audit_action("oncall.schedule_update", target_type="schedule",
                             target_id=schedule.slug, details={
                                 "timezone": schedule.timezone,
                                 "primary": [u.email for u in primary],
                                 "secondary": [u.email for u in secondary]})
                return redirect(url_for("oncall.schedules.show", slug=slug), 303)
    return render_template("oncall/schedule_edit.html", schedule=schedule, form=form,
                           offered=offered), 422


@bp.post("/feed-token")
@require_responder
def rotate_feed_token():
    """Create or replace my secret calendar-feed link."""
    service.rotate_feed_token(session=db.session, user=current_user._get_current_object())
    audit_action("oncall.feed_token_rotate", target_type="user", target_id=current_user.id)
    flash("New calendar links created; links you shared before no longer work.", "success")
    return safe_redirect(request.form.get("next"), "oncall.index")


def _feed_user(token: str):
    user = service.user_for_feed(session=db.session, token=token)
    if user is None:
        abort(404)
    return user


def _ics(body: bytes, name: str):
    return body, 200, {"Content-Type": "text/calendar; charset=utf-8",
                       "Content-Disposition": f'inline; filename="{name}.ics"',
                       "Cache-Control": "private, max-age=300"}


@bp.get("/feeds/<token>/me.ics")
def person_feed(token: str):
    """My shifts as iCalendar (the secret token in the URL is the credential)."""
    user = _feed_user(token)
    return _ics(feeds.person_feed(session=db.session, user=user), "my-on-call")


@bp.get("/feeds/<token>/schedules/<slug>.ics")
def schedule_feed(token: str, slug: str):
    """A schedule's shifts as iCalendar (the secret token in the URL is the credential)."""
    _feed_user(token)
    return _ics(feeds.schedule_feed(session=db.session, schedule=_schedule(slug)), slug)


@bp.get("/policies")
@require_roles(*ONCALL)
def policies():
    """The escalation policy of each severity, the named chains and the routes to them."""
    return render_template("oncall/policies.html",
                           policies=service.list_policies(session=db.session),
                           chains=escalation.list_chains(session=db.session),
                           routes=escalation.list_routes(session=db.session),
                           describe=escalation.describe)


def _policy_form(policy) -> forms.PolicyForm:
    form = forms.PolicyForm(obj=policy)
    step_forms.fill(form, list(policy.steps) if policy else [])
    return form


@bp.route("/policies/<severity>", methods=["GET", "POST"])
@require_roles("manager")
def edit_policy(severity: str):
    """Edit a severity's ack target and escalation steps."""
    if severity not in SEVERITIES:
        abort(404)
    policy = service.get_policy(session=db.session, severity=severity)
    form = forms.PolicyForm() if request.method == "POST" else _policy_form(policy)
    error = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            saved = escalation.set_policy_steps(
                session=db.session, severity=severity, description=form.description.data or "",
                ack_minutes=form.ack_minutes.data,
                steps=step_forms.specs_of(session=db.session, form=form),
                next_business_day=form.next_business_day.data)
        except OncallError as exc:
            error = str(exc)
        else:
            audit_action("oncall.policy_update", target_type="escalation_policy",
                         target_id=severity, details={
                             "steps": step_forms.audit_steps(saved.steps),
                             "ack_minutes": saved.ack_minutes})
            return redirect(url_for("oncall.schedules.policies"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("oncall/policy_edit.html", severity=severity, form=form,
                           error=error), status
