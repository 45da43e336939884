"""The catalog's Blueprint and role sets, shared by its view modules."""
from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
STAFF = ("developer", "oncall", "manager")
RUNBOOK_EDITORS = ("developer", "oncall")
IMPORTERS = ("developer", "manager")


def plot(fig, div_id: str) -> str:
    """A Plotly figure as an embeddable div (plotly.js is served from static/vendor)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})
