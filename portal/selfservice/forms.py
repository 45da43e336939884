"""The request form of a template, generated from its declared parameters."""
from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from portal.selfservice.job_templates import JobTemplate


def request_form(template: JobTemplate, *, session: Session, formdata=None) -> FlaskForm:
    """A Flask-WTF form with one field per declared parameter (values checked by the service)."""

    class RequestForm(FlaskForm):
        pass

    for param in template.params:
        if param.kind == "choice":
            field = SelectField(param.label, choices=[SelectChoice(value, label) for value, label
                                                      in param.options(session)],
                                description=param.help, validate_choice=False)
        else:
            field = StringField(param.label, description=param.help, default=param.default,
                                render_kw={"inputmode": "numeric"} if param.kind == "int" else {})
        setattr(RequestForm, param.name, field)
    return RequestForm(formdata=formdata)
