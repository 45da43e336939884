"""Forms of the auth domain (Flask-WTF: validation and CSRF in one place)."""
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, IPAddress, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[
        DataRequired("Enter your e-mail address."),
        Length(max=254, message="An e-mail address has at most 254 characters."),
        Email("Enter a valid e-mail address, like name@example.com.")])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password."),
        Length(max=512, message="A password has at most 512 characters.")])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form: it only reads

    actor = StringField("Actor", validators=[Optional(), Length(max=254)])
    action = StringField("Action starts with", validators=[Optional(), Length(max=80)])
    target = StringField("Target (type or id)", validators=[Optional(), Length(max=120)])
    ip = StringField("IP", validators=[Optional(), IPAddress(ipv6=True, message="Enter an IP address.")])
    since = DateField("From", validators=[Optional()])
    until = DateField("Until", validators=[Optional()])
    outcome = SelectField("Outcome", choices=[
        SelectChoice("", "any"), *(SelectChoice(o, o) for o in ("success", "failure", "denied"))],
        validators=[Optional()])
