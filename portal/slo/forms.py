"""Forms of the SLO domain; field rules mirror portal.slo.specs.clean, which has the last word."""
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
)

from portal.slo.specs import NAME_PATTERN


def ascii_number(form, field) -> None:
    """Refuse digits of other scripts (Python reads '٣٠' as 30): numbers are typed 0-9."""
    raw = field.raw_data[0] if field.raw_data else ""
    if raw and not raw.isascii():
        raise StopValidation("Type the number with the digits 0-9.")


class SloForm(FlaskForm):
    service = SelectField("Service", validators=[DataRequired("Choose a service.")])
    name = StringField("Name", validators=[
        DataRequired("Name the SLO."),
        Regexp(NAME_PATTERN, message="1-63 lowercase letters, digits or dashes.")])
    sli_kind = SelectField("SLI kind", choices=[
        SelectChoice("ratio", "ratio of good/total events"),
        SelectChoice("latency", "latency: share under a threshold")])
    objective = DecimalField("Objective (%)", places=4, validators=[
        ascii_number, InputRequired("Enter the objective, e.g. 99.95."),
        NumberRange(min=0, max=100, message="Between 0 and 100 (both excluded).")])
    display_name = StringField("Display name", validators=[
        Optional(), Length(max=255, message="At most 255 characters.")])
    window_kind = SelectField("Window", default="rolling", choices=[
        SelectChoice("rolling", "rolling: the last N days"),
        SelectChoice("calendar", "calendar: a fixed day, week, month, quarter or year")])
    # Required for rolling windows only; spec_options says so with the other window fields.
    window_days = IntegerField("Rolling window (days)", default=30, validators=[
        ascii_number, Optional(), NumberRange(min=1, max=90, message="From 1 to 90 days.")])
    calendar_duration = StringField("Calendar window length", default="1M", validators=[
        Optional(), Length(max=16)])
    calendar_time_zone = StringField("Calendar time zone", default="UTC", validators=[
        Optional(), Length(max=64)])
    calendar_start = StringField("Calendar start (local time)", validators=[
        Optional(), Length(max=40)])
    budgeting_method = SelectField("Budgeting method", default="Occurrences", choices=[
        SelectChoice("Occurrences", "Occurrences: each request counts"),
        SelectChoice("Timeslices", "Time slices: share of good slices"),
        SelectChoice("RatioTimeslices", "Ratio of time slices: mean of each slice's share")])
    time_slice_window = StringField("Slice length", validators=[Optional(), Length(max=16)])
    slice_target_pct = DecimalField("A slice is good at (%)", places=None, validators=[
        ascii_number, Optional(), NumberRange(min=0, max=100, message="Between 0 and 100.")])
    latency_threshold_ms = IntegerField("Latency threshold (ms)", validators=[
        ascii_number, Optional(),
        NumberRange(min=1, message="A positive number of milliseconds.")])
    owner = StringField("Owner", validators=[Optional(), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    good_query = StringField("Good events (PromQL counter selector)", validators=[
        DataRequired("Enter the selector of good events."), Length(max=1000)])
    total_query = StringField("Total events (PromQL counter selector)", validators=[
        DataRequired("Enter the selector of all events."), Length(max=1000)])


class OverrideForm(FlaskForm):
    justification = TextAreaField("Justification", validators=[
        DataRequired("Explain why this deploy cannot wait."),
        Length(min=20, max=2000, message="Between 20 and 2000 characters.")])
    hours = IntegerField("Lasts (hours)", default=4, validators=[
        DataRequired("How long the override lasts."),
        NumberRange(min=1, max=168, message="From 1 hour to 7 days (168 hours).")])


class ImportForm(FlaskForm):
    document = TextAreaField("OpenSLO YAML", validators=[
        DataRequired("Paste one or more OpenSLO documents."), Length(max=200_000)])
