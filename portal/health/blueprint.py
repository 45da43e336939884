"""The health Blueprint, its child blueprint for the dead-letter pages, and role sets.

The dead-letter pages stay a child blueprint: its name is part of their endpoint names
(`health.dead_letters.*`), which templates and tests use.
"""
from flask import Blueprint

bp = Blueprint("health", __name__, url_prefix="/health")
dead_letters_bp = Blueprint("dead_letters", __name__, url_prefix="/dead-letters")
bp.register_blueprint(dead_letters_bp)
STAFF = ("developer", "oncall", "manager")
ONCALL = ("oncall", "manager")
