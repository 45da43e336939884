"""The catalog's Blueprint and role sets, shared by its view modules."""
from flask import Blueprint

from portal.rendering import figure_html

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
STAFF = ("developer", "oncall", "manager")
RUNBOOK_EDITORS = ("developer", "oncall")
IMPORTERS = ("developer", "manager")


def plot(fig, div_id: str) -> str:
    """A Plotly figure as an embeddable div (plotly.js is served from static/vendor)."""
    return figure_html(fig, div_id=div_id)
