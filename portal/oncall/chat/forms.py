"""The form a manager sets a team's chat target with."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

PLATFORM_CHOICES = [SelectChoice(value, label) for value, label in (
    ("", "— no chat —"), ("slack", "Slack"), ("mattermost", "Mattermost"),
    ("teams", "Microsoft Teams"), ("discord", "Discord"))]


class ChatTargetForm(FlaskForm):
    platform = SelectField("Platform", choices=PLATFORM_CHOICES)
    target = StringField("Channel or webhook URL", validators=[Length(max=500)],
                         description="Slack: channel id or #name · Mattermost: channel id · "
                                     "Teams/Discord: webhook URL (empty: the portal-wide one)")
    incident_channels = BooleanField("Announce Sev1/Sev2 incidents (on Slack: a channel "
                                     "per incident)")
