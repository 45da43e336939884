"""Forms of the catalog: runbook editing and descriptor import."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

ALERTNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RunbookForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the runbook a title."),
                                             Length(max=160)])
    slug = StringField("Address (slug)", validators=[
        DataRequired("Choose an address."), Length(max=80),
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
               message="Lower-case letters, digits and single hyphens only.")])
    service = SelectField("Catalog entry", choices=[], validators=[Optional()])
    alertnames = StringField("Alerts it answers (comma-separated alert names)",
                             validators=[Length(max=1000)])
    body = TextAreaField("Runbook (Markdown)", validators=[
        DataRequired("The runbook needs some content."), Length(max=100_000)])

    def validate_alertnames(self, field) -> None:
        bad = [name for name in self.alert_list() if not ALERTNAME.match(name)]
        if bad:
            raise ValidationError(f"Not valid Prometheus alert names: {', '.join(bad)}.")

    def alert_list(self) -> list[str]:
        """The alert names typed into the form."""
        return [a.strip() for a in (self.alertnames.data or "").split(",") if a.strip()]


class ImportForm(FlaskForm):
    descriptor = FileField("catalog-info.yaml file")
    text = TextAreaField("…or paste its YAML", validators=[Length(max=500_000)])
