"""Plotly figures of the tenant dashboard (each also rendered as a table by the template).

Figures are plain dicts rendered with validate=False: building graph_objects validates
every property and cost more than all the dashboard's queries together.
"""
from __future__ import annotations

from typing import Any

from portal.rendering import figure_html

COLORS = {"pending": "#9e9e9e", "confirmed": "#1e88e5", "fulfilled": "#2e7d32",
          "canceled": "#c62828"}
PREVIOUS_LINE = {"dash": "dash", "width": 2}
LAYOUT: dict[str, Any] = dict(margin=dict(l=40, r=10, t=30, b=40), height=300,
                              legend=dict(orientation="h"), paper_bgcolor="rgba(0,0,0,0)",
                              plot_bgcolor="rgba(0,0,0,0)")


def _html(data: list[dict], layout: dict, div_id: str) -> str:
    figure = {"data": data, "layout": {**LAYOUT, **layout}}
    return figure_html(figure, div_id=div_id)


def _previous(data: dict, name: str, values: list, **extra) -> dict:
    """A dashed line of the previous period drawn over this period's days, day by day."""
    return {"type": "scatter", "mode": "lines", "name": f"{name}, previous period",
            "x": data["days"], "y": values, "line": {**PREVIOUS_LINE, **extra.pop("line", {})},
            **extra}


def orders_per_day(data: dict, previous: dict | None = None) -> str:
    bars = [{"type": "bar", "name": status, "x": data["days"], "y": counts,
             "marker": {"color": COLORS.get(status)}}
            for status, counts in data["orders"]["per_status"].items()]
    if previous is not None:
        per_day = [sum(day) for day in zip(*previous["orders"]["per_status"].values())]
        bars.append(_previous(data, "orders", per_day, line={"color": "#455a64"}))
    return _html(bars, {"barmode": "stack", "title": {"text": "Orders per day"}},
                 "chart-orders-per-day")


def orders_by_status(data: dict) -> str:
    totals = data["orders"]["totals"]
    bar = {"type": "bar", "x": list(totals), "y": list(totals.values()),
           "marker": {"color": [COLORS.get(s) for s in totals]}}
    return _html([bar], {"title": {"text": "Orders by status"}}, "chart-orders-by-status")


def _minutes(values: list) -> list:
    return [None if v is None else round(v / 60, 2) for v in values]


def fulfillment(data: dict, previous: dict | None = None) -> str:
    colors = {"p50": "#1e88e5", "p95": "#b26a00"}
    lines = [{"type": "scatter", "name": q, "x": data["days"],
              "y": _minutes(data["fulfillment"][q]), "mode": "lines+markers",
              "line": {"color": colors[q]}} for q in colors]
    if previous is not None:
        lines += [_previous(data, q, _minutes(previous["fulfillment"][q]),
                            line={"color": colors[q]}) for q in colors]
    return _html(lines, {"title": {"text": "Fulfillment time (minutes)"},
                         "yaxis": {"title": {"text": "minutes"}}}, "chart-fulfillment")


def low_stock(data: dict) -> str:
    rows = data["low_stock"]
    bar = {"type": "bar", "orientation": "h", "x": [r[4] for r in rows],
           "y": [f"{r[0]} @ {r[1]}" for r in rows], "marker": {"color": "#b26a00"}}
    return _html([bar], {"title": {"text": "Low-stock SKUs (available units)"},
                         # "SKU @ warehouse" labels are wider than the default margin
                         "yaxis": {"autorange": "reversed", "automargin": True}},
                 "chart-low-stock")


def sla(data: dict, target: float) -> str:
    pct = data["sla"]["pct"]
    gauge = {"type": "indicator", "mode": "gauge+number+delta",
             "value": pct if pct is not None else 0, "number": {"suffix": "%"},
             "delta": {"reference": target},
             "gauge": {"axis": {"range": [min(90, target - 5), 100]},
                       # green only when the plan's target is met: a green bar below the
                       # red threshold line reads as "fine" at a glance
                       "bar": {"color": COLORS["fulfilled"] if pct is not None
                               and pct >= target else COLORS["canceled"]},
                       "threshold": {"value": target,
                                     "line": {"color": "#c62828", "width": 3}}},
             "title": {"text": f"Within 5 min, {data['sla']['month']}"}}
    # The gauge's title sits above its plot area: give it room or its top is clipped.
    return _html([gauge], {"margin": {**LAYOUT["margin"], "t": 70}}, "chart-sla")


def api_requests(data: dict, previous: dict | None = None) -> str:
    api = data["api"]
    bars = {"type": "bar", "name": "requests", "x": data["days"], "y": api["requests"],
            "marker": {"color": "#1e88e5"}}
    rate = {"type": "scatter", "name": "server error rate (%)", "x": data["days"],
            "y": api["error_rate"], "yaxis": "y2", "mode": "lines+markers",
            "line": {"color": "#c62828"}}
    traces = [bars, rate]
    if previous is not None:
        traces.append(_previous(data, "requests", previous["api"]["requests"],
                                line={"color": "#0d47a1"}))
    return _html(traces, {"title": {"text": "API requests and server error rate"},
                                "margin": {**LAYOUT["margin"], "r": 50},  # the 5xx % axis
                                "yaxis": {"title": {"text": "requests"}},
                                "yaxis2": {"title": {"text": "5xx %"}, "overlaying": "y",
                                           "side": "right", "rangemode": "tozero"}},
                 "chart-api-requests")


def all_charts(data: dict, sla_target: float, previous: dict | None = None) -> dict[str, str]:
    """Every dashboard chart as an embeddable HTML div, by name.

    With `previous` (the aggregates of the period before), the time series also show it
    as dashed lines.
    """
    return {"orders_per_day": orders_per_day(data, previous),
            "orders_by_status": orders_by_status(data),
            "fulfillment": fulfillment(data, previous), "low_stock": low_stock(data),
            "sla": sla(data, sla_target), "api_requests": api_requests(data, previous)}
