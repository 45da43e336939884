"""Forms of the incidents domain (Flask-WTF: validation and CSRF in one place)."""
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional, ValidationError

from portal.incidents.models import ACTION_STATUSES, ROLES, SEVERITIES
from portal.incidents.postmortems import SECTIONS

SEVERITY_CHOICES = [SelectChoice(s, s.capitalize()) for s in SEVERITIES]
UNKNOWN_SEVERITY = "Unknown severity: choose Sev1, Sev2, Sev3 or Sev4."


def _severity_field(label: str = "Severity"):
    # validate_choice=False so an unknown value gets our message, not WTForms' generic one.
    return SelectField(label, choices=SEVERITY_CHOICES, validate_choice=False,
                       validators=[DataRequired(UNKNOWN_SEVERITY),
                                   AnyOf(SEVERITIES, message=UNKNOWN_SEVERITY)])


class DeclareForm(FlaskForm):
    title = StringField("Title", validators=[
        DataRequired("Give the incident a title."),
        Length(max=200, message="A title has at most 200 characters.")])
    severity = _severity_field()
    summary = TextAreaField("What is happening", validators=[
        Optional(), Length(max=5000, message="The summary has at most 5,000 characters.")])
    services = SelectMultipleField("Affected services", choices=[], validate_choice=False)
    tenants = SelectMultipleField("Affected tenants", choices=[], validate_choice=False)
    customer_facing = BooleanField("Customer-facing (affected tenants see status updates)")

    def validate_services(self, field):
        known = {choice.value for choice in field.choices}
        unknown = [v for v in field.data if v not in known]
        if unknown:
            raise ValidationError(f"Unknown service: {', '.join(unknown)}.")

    def validate_tenants(self, field):
        known = {choice.value for choice in field.choices}
        unknown = [v for v in field.data if v not in known]
        if unknown:
            raise ValidationError(f"Unknown tenant: {', '.join(unknown)}.")


class NoteForm(FlaskForm):
    # The length limit is checked by the service so the message can give both numbers.
    body = TextAreaField("Add a note (Markdown)", validators=[DataRequired(
        "Write something before adding the note.")])


class SeverityForm(FlaskForm):
    severity = _severity_field("New severity")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(k, v) for k, v in ROLES.items()])
    email = EmailField("Staff e-mail (empty to unassign)", validators=[
        Optional(), Email("Enter an e-mail address."), Length(max=254)])


class CustomerUpdateForm(FlaskForm):
    message = TextAreaField("Update for affected tenants", validators=[
        DataRequired("Write the update."),
        Length(max=2000, message="An update has at most 2,000 characters.")])


class FromAlertForm(FlaskForm):
    severity = _severity_field()


class ActionItemForm(FlaskForm):
    title = StringField("Action", validators=[
        DataRequired("Describe the action."), Length(max=300)])
    owner_email = EmailField("Owner e-mail", validators=[
        DataRequired("Name an owner."), Email("Enter an e-mail address."), Length(max=254)])
    due_date = DateField("Due", validators=[Optional()])


class ActionStatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(s, s.replace("_", " "))
                                            for s in ACTION_STATUSES])


class PostmortemForm(FlaskForm):
    pass


for _name, _heading, _hint in SECTIONS:
    setattr(PostmortemForm, _name, TextAreaField(_heading, description=_hint, validators=[
        Optional(), Length(max=20_000, message="Each section has at most 20,000 characters.")]))


class SuspectRollbackForm(FlaskForm):
    """CSRF and the reason of a rollback from the suspect-change panel (the reason's rules
    live in portal.incidents.suspect_rollback)."""
    reason = TextAreaField("Why roll back (goes on the timeline)")
