"""Forms of the tenants area: asking for a report and scheduling one.

Field rules live in the service (`reports.validate`, `schedules.validate`) so tasks and
views share them; the forms parse, carry the CSRF token and show the messages.
"""
from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from portal.tenants.models import CADENCES, REPORT_KINDS

KIND_CHOICES = [SelectChoice(k, label) for k, label in REPORT_KINDS.items()]
FORMAT_CHOICES = [SelectChoice("csv", "CSV"), SelectChoice("pdf", "PDF")]
CADENCE_CHOICES = [SelectChoice(c, c.capitalize()) for c in CADENCES]


class ReportForm(FlaskForm):
    kind = SelectField("Report", choices=KIND_CHOICES, validate_choice=False)
    fmt = SelectField("Format", choices=FORMAT_CHOICES, validate_choice=False)
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    warehouse = SelectField("Warehouse", choices=[], validate_choice=False)

    def __init__(self, *args, warehouses: Sequence[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.warehouse.choices = [SelectChoice("", "all warehouses"),
                                  *(SelectChoice(w, w) for w in warehouses)]

    def validate_warehouse(self, field) -> None:
        """Only the tenant's own warehouses: another name would build an empty report."""
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose one of this tenant's warehouses.")

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
