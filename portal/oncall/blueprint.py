"""The on-call Blueprint, its child blueprints, role sets and shared helpers.

Schedules, chains, silences, roster notices, the importers, chat and notification rules
stay child blueprints: their names are part of their endpoint names (`oncall.schedules.*`
and so on), which templates and tests use.
"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask_login import current_user

bp = Blueprint("oncall", __name__, url_prefix="/oncall")
schedules_bp = Blueprint("schedules", __name__)
chains_bp = Blueprint("chains", __name__)
silences_bp = Blueprint("silences", __name__, url_prefix="/silences")
roster_notices_bp = Blueprint("roster_notices", __name__)
importing_bp = Blueprint("importing", __name__)
chat_bp = Blueprint("chat", __name__, url_prefix="/chat")
rules_bp = Blueprint("rules", __name__)
bp.register_blueprint(schedules_bp)
bp.register_blueprint(chains_bp)  # named escalation chains and routes
bp.register_blueprint(silences_bp)
bp.register_blueprint(roster_notices_bp)  # deprovisioned people's shifts
bp.register_blueprint(importing_bp)  # /oncall/import: Grafana OnCall schedules
bp.register_blueprint(chat_bp)  # chat targets and the chat platforms' callbacks
bp.register_blueprint(rules_bp)  # my notification rules
ONCALL = ("oncall", "manager")


def to_utc(local: datetime) -> datetime:
    """A naive datetime typed by the user, read in their time zone."""
    zone = ZoneInfo(current_user.timezone or "UTC")
    return local.replace(tzinfo=zone).astimezone(UTC)
