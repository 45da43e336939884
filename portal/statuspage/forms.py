"""Forms of the status page: planning maintenance (staff) and subscribing (page readers)."""
from __future__ import annotations

from datetime import UTC

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from portal.statuspage.models import CHANNELS

CHANNEL_CHOICES = [SelectChoice("email", "E-mail"), SelectChoice("webhook", "Webhook")]
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
BAD_TIME = "Give the time as YYYY-MM-DD HH:MM (UTC)."


class MaintenanceForm(FlaskForm):
    title = StringField("Title", validators=[
        DataRequired("Give the maintenance a title."),
        Length(max=200, message="A title has at most 200 characters.")])
    description = TextAreaField("What customers should know", validators=[
        Optional(), Length(max=5000, message="The description has at most 5,000 characters.")])
    components = SelectMultipleField("Components", choices=[], validate_choice=False,
                                     validators=[DataRequired("Choose at least one component.")])
    starts_at = DateTimeLocalField("Starts (UTC)", format=TIME_FORMATS,
                                   validators=[DataRequired(BAD_TIME)])
    ends_at = DateTimeLocalField("Ends (UTC)", format=TIME_FORMATS,
                                 validators=[DataRequired(BAD_TIME)])

    def window(self):
        """The (start, end) the form describes, as UTC datetimes."""
        return (self.starts_at.data.replace(tzinfo=UTC),
                self.ends_at.data.replace(tzinfo=UTC))


class SubscribeForm(FlaskForm):
    channel = SelectField("Notify me by", choices=CHANNEL_CHOICES, validate_choice=False,
                          validators=[AnyOf(CHANNELS, message="Choose e-mail or webhook.")])
    target = StringField("E-mail address or webhook URL", validators=[
        DataRequired("Give an e-mail address or a webhook URL."),
        Length(max=500, message="An address has at most 500 characters.")])
    component = SelectField("About", choices=[], validate_choice=False)
