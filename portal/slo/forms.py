"""Forms of the SLO domain; field rules mirror portal.slo.specs.clean, which has the last word."""
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField, IntegerField, SelectField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from portal.slo.specs import NAME_PATTERN


class SloForm(FlaskForm):
    service = SelectField("Service", validators=[DataRequired("Choose a service.")])
    name = StringField("Name", validators=[
        DataRequired("Name the SLO."),
        Regexp(NAME_PATTERN, message="1-63 lowercase letters, digits or dashes.")])
    sli_kind = SelectField("SLI kind", choices=[
        SelectChoice("ratio", "ratio of good/total events"),
        SelectChoice("latency", "latency: share under a threshold")])
    objective = DecimalField("Objective (%)", places=4, validators=[
        InputRequired("Enter the objective, e.g. 99.95."),
        NumberRange(min=0, max=100, message="Between 0 and 100 (both excluded).")])
    window_days = IntegerField("Window (days)", default=30, validators=[
        DataRequired("Enter the window."),
        NumberRange(min=1, max=90, message="From 1 to 90 days.")])
    latency_threshold_ms = IntegerField("Latency threshold (ms)", validators=[
        Optional(), NumberRange(min=1, message="A positive number of milliseconds.")])
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
