"""The incidents Blueprint, its role sets and the loaders its view modules share."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from portal.extensions import db
from portal.incidents import service, suspect_silences, suspects
from portal.incidents.models import Incident
from portal.selfservice.blueprint import REQUESTERS as DEPLOY_REQUESTERS

bp = Blueprint("incidents", __name__, url_prefix="/incidents")
STAFF = ("developer", "oncall", "manager")
RESPONDERS = ("oncall", "manager")


def load(incident_id: int, *, for_page: bool = False) -> Incident:
    """The incident or a 404; `for_page` loads at once what the incident page shows of it."""
    incident = (service.get_for_page if for_page else service.get)(
        session=db.session, incident_id=incident_id)
    if incident is None:
        abort(404)
    return incident


def run(call, **kwargs):
    """Call a service function, turning rule violations into readable 4xx answers."""
    try:
        return call(session=db.session, **kwargs)
    except service.NotAllowed as exc:
        abort(403, description=str(exc))
    except service.LifecycleError as exc:
        abort(409, description=str(exc))
    except ValueError as exc:
        abort(422, description=str(exc))


def suspects_context(incident: Incident, hours: int = suspects.DEFAULT_HOURS) -> dict:
    """What the panel shows: the suspect changes and, for those who may request deploys,
    the rollback form."""
    try:
        found = suspects.find(session=db.session, incident=incident, hours=hours)
    except ValueError as exc:
        abort(400, description=str(exc))
    return {"suspects": found, "may_roll_back": current_user.has_role(*DEPLOY_REQUESTERS),
            "may_undo_silence": current_user.has_role(*suspect_silences.UNDOERS),
            "hour_choices": (1, 3, suspects.DEFAULT_HOURS, 12, 24, suspects.MAX_HOURS)}
