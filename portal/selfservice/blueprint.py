"""The self-service Blueprint, its role sets and the lookups several view modules share."""
from __future__ import annotations

from flask import Blueprint, abort

from portal.extensions import db
from portal.selfservice import job_templates, service

bp = Blueprint("selfservice", __name__, url_prefix="/selfservice")
REQUESTERS = ("developer", "manager")
STAFF = ("developer", "oncall", "manager")


def template_or_404(slug: str):
    template = job_templates.get(slug)
    if template is None:
        abort(404, description=f"There is no self-service template named {slug!r}.")
    return template


def job_or_404(job_id: str):
    job = service.get_job(session=db.session, job_id=job_id)
    if job is None:
        abort(404)
    return job
