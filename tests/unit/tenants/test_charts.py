"""Dashboard figures: what a reader sees at a glance must not mislead or be clipped."""
import json
import re
from html import unescape

from portal.tenants import charts


def _figure(html: str) -> dict:
    """The data and layout Plotly.newPlot receives, read back out of the rendered div."""
    spec = re.search(r'data-plotly-figure="([^"]*)"', html).group(1)
    figure = json.loads(unescape(spec))
    return {"data": figure["data"], "layout": figure["layout"]}


def _sla(pct):
    return {"sla": {"pct": pct, "month": "November 2026"}}


def test_sla_gauge_is_green_only_when_the_plan_target_is_met():
    below = _figure(charts.sla(_sla(98.28), 99.95))["data"][0]["gauge"]["bar"]["color"]
    met = _figure(charts.sla(_sla(99.96), 99.95))["data"][0]["gauge"]["bar"]["color"]
    empty = _figure(charts.sla(_sla(None), 99.0))["data"][0]["gauge"]["bar"]["color"]
    assert (below, met, empty) == (charts.COLORS["canceled"], charts.COLORS["fulfilled"],
                                   charts.COLORS["canceled"])


def test_low_stock_labels_get_the_room_they_need():
    rows = [("SKU-0006", "newark", 3, 3, 0), ("SKU-0030", "reno", 7, 0, 7)]
    figure = _figure(charts.low_stock({"low_stock": rows}))
    assert figure["data"][0]["y"] == ["SKU-0006 @ newark", "SKU-0030 @ reno"]
    assert figure["layout"]["yaxis"]["automargin"] is True
