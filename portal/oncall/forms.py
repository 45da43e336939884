"""Forms of the on-call pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from portal.oncall.models import LAYERS

WEEKDAYS = [(str(i), d) for i, d in enumerate(
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))]
OPERATORS = [("=", "equals (=)"), ("!=", "not equal (!=)"), ("=~", "matches regex (=~)"),
             ("!~", "does not match regex (!~)")]
DURATIONS = [("1", "1 hour"), ("2", "2 hours"), ("4", "4 hours"), ("8", "8 hours"),
             ("24", "1 day"), ("", "until the end time below")]
STEP_TARGETS = [("", "—"), ("primary", "Primary on-call"), ("secondary", "Secondary on-call"),
                ("user", "A person (e-mail)")]
STEP_KINDS = [("", "—"), ("page", "Page primary/secondary/person"), ("wait", "Wait (minutes)"),
              ("notify_users", "Notify people"), ("notify_group", "Notify a team"),
              ("notify_schedule", "Notify everyone on call"),
              ("repeat", "Repeat from the top (count)"),
              ("notify_if_count", "Go on only with ≥ count alerts within minutes"),
              ("webhook", "Call a webhook")]
LOCAL = "%Y-%m-%dT%H:%M"


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class OverrideForm(FlaskForm):
    layer = SelectField("Layer", choices=[SelectChoice(name, name.capitalize()) for name in LAYERS])
    user_email = SelectField("Who covers", validators=[DataRequired()])
    starts_at = DateTimeLocalField("From (your time zone)", format=LOCAL,
                                   validators=[DataRequired("Enter when the cover starts.")])
    ends_at = DateTimeLocalField("Until (your time zone)", format=LOCAL,
                                 validators=[DataRequired("Enter when the cover ends.")])
    reason = StringField("Reason", validators=[Length(max=300)])


class SwapForm(FlaskForm):
    """Trade two upcoming rotation shifts of one layer; choices are that layer's shifts."""
    layer = HiddenField(validators=[AnyOf(LAYERS)])
    give = SelectField("This shift", validators=[DataRequired("Choose a shift to give.")])
    take = SelectField("for this shift", validators=[DataRequired("Choose a shift to take.")])


class NoteForm(FlaskForm):
    body = TextAreaField("Hand-off note", validators=[
        DataRequired("Write something in the hand-off note."), Length(max=5000)])


class ScheduleForm(FlaskForm):
    timezone = StringField("Time zone", validators=[DataRequired(), Length(max=64)])
    handoff_weekday = SelectField("Hand-off day", choices=_choices(WEEKDAYS))
    handoff_time = TimeField("Hand-off time (local)", validators=[DataRequired()])
    primary = TextAreaField("Primary participants, in order (one e-mail per line)",
                            validators=[DataRequired("The primary layer needs someone.")])
    secondary = TextAreaField("Secondary participants, in order (one e-mail per line)")


class StepForm(Form):
    """One escalation step of any kind; which fields count depends on the kind (an empty
    kind with a target is the original "page" step). Checked by portal.oncall.step_forms."""
    kind = SelectField("Kind", choices=_choices(STEP_KINDS), validate_choice=False)
    after_minutes = IntegerField("After (minutes)", validators=[Optional(),
                                                                NumberRange(0, 7 * 24 * 60)])
    target = SelectField("Page", choices=_choices(STEP_TARGETS), validate_choice=False)  # checked by service
    user_email = StringField("Person", validators=[Optional(), Length(max=254)])
    label = StringField("Label", validators=[Optional(), Length(max=80)])
    minutes = IntegerField("Minutes", validators=[Optional(), NumberRange(0, 7 * 24 * 60)])
    count = IntegerField("Count", validators=[Optional(), NumberRange(0, 1000)])
    people = StringField("People (e-mails, comma-separated)",
                         validators=[Optional(), Length(max=2000)])
    team = StringField("Team (slug)", validators=[Optional(), Length(max=63)])
    schedule = StringField("Schedule (slug; empty: the page's)",
                           validators=[Optional(), Length(max=63)])
    important = BooleanField("Important")
    webhook_url = StringField("Webhook URL", validators=[Optional(), Length(max=500)])


class PolicyForm(FlaskForm):
    description = StringField("Meaning", validators=[Length(max=200)])
    ack_minutes = IntegerField("Ack target (minutes)",
                               validators=[DataRequired(), NumberRange(1, 7 * 24 * 60)])
    next_business_day = BooleanField("Hold pages until the next business morning")
    steps = FieldList(FormField(StepForm), min_entries=5, max_entries=20)


class ChainForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the chain a name."),
                                           Length(max=120)])
    description = StringField("Description", validators=[Optional(), Length(max=200)])
    steps = FieldList(FormField(StepForm), min_entries=5, max_entries=20)


class RouteForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    matcher = StringField("Alert labels matcher", validators=[
        DataRequired("Give a matcher such as {service=\"order\"}."), Length(max=1000)])
    chain_id = SelectField("Chain", coerce=int, validate_choice=True)


class MatcherForm(Form):
    name = StringField("Label", validators=[Optional(), Length(max=100)])
    operator = SelectField("Operator", choices=_choices(OPERATORS), validate_choice=False)  # see views
    value = StringField("Value", validators=[Optional(), Length(max=500)])


class SilenceForm(FlaskForm):
    matchers = FieldList(FormField(MatcherForm), min_entries=5, max_entries=20)
    starts_at = DateTimeLocalField("Starts (your time zone; empty = now)", format=LOCAL,
                                   validators=[Optional()])
    duration = SelectField("Duration", choices=_choices(DURATIONS), default="2")
    ends_at = DateTimeLocalField("Ends (your time zone)", format=LOCAL, validators=[Optional()])
    comment = TextAreaField("Justification", validators=[
        DataRequired("A justification is required."), Length(max=2000)])
    incident_id = IntegerField("Linked incident number (optional)",
                               validators=[Optional(), NumberRange(min=1)])


def default_swap(offered: list, shifts: list) -> tuple | None:
    """The pair a fresh swap form shows: the first offered shift and the first shift of
    someone else, or None when no such pair exists."""
    for give in offered:
        take = next((s for s in shifts if s.who.id != give.who.id), None)
        if take is not None:
            return give, take
    return None
