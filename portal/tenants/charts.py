"""Plotly figures of the tenant dashboard (each also rendered as a table by the template)."""
from __future__ import annotations

import plotly.graph_objects as go

COLORS = {"pending": "#9e9e9e", "confirmed": "#1e88e5", "fulfilled": "#2e7d32",
          "canceled": "#c62828"}
LAYOUT = dict(margin=dict(l=40, r=10, t=30, b=40), height=300, legend=dict(orientation="h"),
              paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")


def _html(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(**LAYOUT)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def orders_per_day(data: dict) -> str:
    fig = go.Figure([go.Bar(name=status, x=data["days"], y=counts,
                            marker_color=COLORS.get(status))
                     for status, counts in data["orders"]["per_status"].items()])
    fig.update_layout(barmode="stack", title="Orders per day")
    return _html(fig, "chart-orders-per-day")


def orders_by_status(data: dict) -> str:
    totals = data["orders"]["totals"]
    fig = go.Figure(go.Bar(x=list(totals), y=list(totals.values()),
                           marker_color=[COLORS.get(s) for s in totals]))
    fig.update_layout(title="Orders by status")
    return _html(fig, "chart-orders-by-status")


def fulfillment(data: dict) -> str:
    minutes = [None if v is None else round(v / 60, 2) for v in data["fulfillment"]["p50"]]
    p95 = [None if v is None else round(v / 60, 2) for v in data["fulfillment"]["p95"]]
    fig = go.Figure([go.Scatter(name="p50", x=data["days"], y=minutes, mode="lines+markers"),
                     go.Scatter(name="p95", x=data["days"], y=p95, mode="lines+markers")])
    fig.update_layout(title="Fulfillment time (minutes)", yaxis_title="minutes")
    return _html(fig, "chart-fulfillment")


def low_stock(data: dict) -> str:
    rows = data["low_stock"]
    fig = go.Figure(go.Bar(orientation="h", x=[r[4] for r in rows],
                           y=[f"{r[0]} @ {r[1]}" for r in rows], marker_color="#b26a00"))
    fig.update_layout(title="Low-stock SKUs (available units)", yaxis=dict(autorange="reversed"))
    return _html(fig, "chart-low-stock")


def sla(data: dict, target: float) -> str:
    pct = data["sla"]["pct"]
    fig = go.Figure(go.Indicator(
        mode="gauge+number+delta", value=pct if pct is not None else 0,
        number={"suffix": "%"}, delta={"reference": target},
        gauge={"axis": {"range": [min(90, target - 5), 100]},
               "threshold": {"value": target, "line": {"color": "#c62828", "width": 3}}},
        title={"text": f"Within 5 min, {data['sla']['month']}"}))
    return _html(fig, "chart-sla")


def all_charts(data: dict, sla_target: float) -> dict[str, str]:
    """Every dashboard chart as an embeddable HTML div, by name."""
    return {"orders_per_day": orders_per_day(data), "orders_by_status": orders_by_status(data),
            "fulfillment": fulfillment(data), "low_stock": low_stock(data),
            "sla": sla(data, sla_target)}
