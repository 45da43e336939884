"""The SLO Blueprint and its role sets, shared by its view modules."""
from flask import Blueprint

bp = Blueprint("slo", __name__, url_prefix="/slo")
READERS = ("developer", "oncall", "manager")
EDITORS = ("developer", "manager")
