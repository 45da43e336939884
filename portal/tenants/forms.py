"""Forms of the tenants area: asking for a report and scheduling one.

Field rules live in the service (`reports.validate`, `schedules.validate`) so tasks and
views share them; the forms parse, carry the CSRF token and show the messages.
"""
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.tenants.models import CADENCES, REPORT_KINDS

KIND_CHOICES = [SelectChoice(k, label) for k, label in REPORT_KINDS.items()]
FORMAT_CHOICES = [SelectChoice("csv", "CSV"), SelectChoice("pdf", "PDF")]
CADENCE_CHOICES = [SelectChoice(c, c.capitalize()) for c in CADENCES]


class ReportForm(FlaskForm):
    kind = SelectField("Report", choices=KIND_CHOICES, validate_choice=False)
    fmt = SelectField("Format", choices=FORMAT_CHOICES, validate_choice=False)
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    warehouse = StringField("Warehouse (optional)", validators=[Optional()])

    def add_errors(self, errors: dict[str, str]) -> None:
        """Attach the service's messages to their fields."""
        for name, message in errors.items():
            getattr(self, name).errors = [*getattr(self, name).errors, message]


class ScheduleForm(FlaskForm):
    kind = SelectField("Report", choices=KIND_CHOICES, validate_choice=False)
    fmt = SelectField("Format", choices=FORMAT_CHOICES, validate_choice=False)
    cadence = SelectField("Every", choices=CADENCE_CHOICES, validate_choice=False)
    email = EmailField("Send to")

    add_errors = ReportForm.add_errors
