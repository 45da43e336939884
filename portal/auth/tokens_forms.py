"""The form that creates an API token."""
import re

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

# ASCII digits only: int() would also read other scripts' digits.
DAYS = re.compile(r"[0-9]{1,4}", re.ASCII)
PRINTABLE = re.compile(r"[^\x00-\x1f\x7f]+\Z")


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[
        DataRequired("Name the token after what uses it, e.g. `grafana-export`."),
        Length(max=80, message="A token name has at most 80 characters."),
        Regexp(PRINTABLE, message="A token name cannot contain control characters.")])
    scopes = SelectMultipleField("Scopes", widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput(),
                                 validators=[DataRequired("Choose at least one scope.")])
    expires_days = StringField("Expires after (days)", default="90", validators=[
        DataRequired("Give the lifetime in days.")])
    tenant = SelectField("Limit to tenant", default="")

    def __init__(self, *args, max_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_days = max_days

    def validate_expires_days(self, field) -> None:
        text = (field.data or "").strip()
        if not DAYS.fullmatch(text) or not 1 <= int(text) <= self.max_days:
            raise ValidationError(f"Give a whole number of days from 1 to {self.max_days}.")

    @property
    def days(self) -> int:
        return int(self.expires_days.data.strip())
