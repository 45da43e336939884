"""The "My notification rules" form: profile fields and two editable lists of rule rows.

Rows are added, removed and moved on the server (the form is posted back and rendered
again with the rows changed, nothing saved), so the page works without custom JavaScript.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, IntegerField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from portal.oncall.rule_models import (
    MAX_DELAY_MINUTES,
    MAX_INTERVAL_MINUTES,
    MAX_REPEATS,
    RULE_KINDS,
)
from portal.oncall.rule_service import MAX_RULES
from portal.oncall.rules import Rule

CHANNEL_LABELS = {"email": "E-mail", "sms": "SMS", "voice": "Phone call",
                  "chat": "Team chat"}
LISTS = {"default": "default_rules", "important": "important_rules"}  # kind -> field name
BLANK_ROW = {"channel": "", "delay_minutes": 0, "repeat_count": 0,
             "repeat_interval_minutes": 5}


class RuleRowForm(Form):
    channel = SelectField("Channel", choices=[SelectChoice("", "—")] + [
        SelectChoice(value, label) for value, label in CHANNEL_LABELS.items()])
    delay_minutes = IntegerField("After (minutes)", default=0, validators=[
        Optional(), NumberRange(0, MAX_DELAY_MINUTES, "0 to %(max)s minutes.")])
    repeat_count = IntegerField("Repeat (times)", default=0, validators=[
        Optional(), NumberRange(0, MAX_REPEATS, "0 to %(max)s times.")])
    repeat_interval_minutes = IntegerField("Every (minutes)", default=5, validators=[
        Optional(), NumberRange(1, MAX_INTERVAL_MINUTES, "1 to %(max)s minutes.")])


class RulesForm(FlaskForm):
    phone = StringField("Phone number (international, e.g. +49 30 1234567)",
                        validators=[Optional(), Length(max=32)])
    timezone = StringField("Time zone", validators=[Length(max=64)])
    quiet_start = TimeField("Quiet hours start (your time)", validators=[Optional()])
    quiet_end = TimeField("Quiet hours end (your time)", validators=[Optional()])
    default_rules = FieldList(FormField(RuleRowForm), max_entries=MAX_RULES)
    important_rules = FieldList(FormField(RuleRowForm), max_entries=MAX_RULES)


def rows_of(form: RulesForm, kind: str) -> list[dict]:
    """The rows of one list as submitted (raw text kept, so a re-render shows what was
    typed, even if invalid)."""
    rows = []
    for entry in getattr(form, LISTS[kind]).entries:
        row = {}
        for name in BLANK_ROW:
            sub = entry.form[name]
            raw = sub.raw_data[0] if sub.raw_data else None
            row[name] = raw if raw is not None else sub.data
        rows.append(row)
    return rows


def set_rows(form: RulesForm, kind: str, rows: list[dict]) -> None:
    """Replace one list's rows, numbering them afresh in their new order."""
    field = getattr(form, LISTS[kind])
    field.entries, field.last_index = [], -1
    for row in rows[:MAX_RULES]:
        field.append_entry(row)


def fill(form: RulesForm, plan) -> None:
    """A fresh form showing a saved plan."""
    form.phone.data, form.timezone.data = plan.phone or "", plan.timezone
    if plan.quiet is not None:
        form.quiet_start.data, form.quiet_end.data = plan.quiet.start, plan.quiet.end
    for kind in RULE_KINDS:
        set_rows(form, kind, [vars(rule) for rule in plan.rules[kind]])


def rules_of(form: RulesForm, kind: str) -> list[Rule]:
    """The filled-in rows of a validated form as rules; rows without a channel are left out."""
    out = []
    for entry in getattr(form, LISTS[kind]).entries:
        f = entry.form
        if f.channel.data:
            out.append(Rule(f.channel.data, f.delay_minutes.data or 0,
                            f.repeat_count.data or 0,
                            f.repeat_interval_minutes.data or 5))
    return out


def apply_op(form: RulesForm, op: str) -> bool:
    """Add, remove or move a row as `op` ("add:default", "remove:important:2", "up:...",
    "down:...", rows counted from 1) says; False for an op that makes no sense."""
    parts = op.split(":")
    if len(parts) not in (2, 3) or parts[0] not in ("add", "remove", "up", "down") \
            or parts[1] not in LISTS:
        return False
    action, kind = parts[0], parts[1]
    rows = rows_of(form, kind)
    if action == "add":
        if len(rows) >= MAX_RULES:
            return False
        rows.append(dict(BLANK_ROW))
    else:
        if len(parts) != 3 or not parts[2].isascii() or not parts[2].isdigit() \
                or len(parts[2]) > 3:
            return False
        n = int(parts[2]) - 1
        other = {"remove": n, "up": n - 1, "down": n + 1}[action]
        if not (0 <= n < len(rows) and 0 <= other < len(rows)):
            return False
        if action == "remove":
            rows.pop(n)
        else:
            rows[n], rows[other] = rows[other], rows[n]
    set_rows(form, kind, rows)
    return True
