"""Plotly figures of the incident metrics (every chart is also shown as a table)."""
from __future__ import annotations

import plotly.graph_objects as go

from portal.incidents.metrics import Completion, Row
from portal.rendering import figure_html

_LAYOUT = dict(margin=dict(l=50, r=20, t=40, b=60), height=320, barmode="group",
               xaxis=dict(type="category"),  # months are labels, not dates to interpolate
               legend=dict(orientation="h", y=-0.25), template="plotly_white")


def _html(fig: go.Figure, div_id: str) -> str:
    return figure_html(fig, div_id=div_id)


def mtta_mttr(rows: list[Row], *, title: str, div_id: str) -> str:
    """Grouped bars of MTTA and MTTR in minutes per key."""
    keys = [r.key for r in rows]
    fig = go.Figure([
        go.Bar(name="MTTA (min)", x=keys, y=[r.mtta_min for r in rows]),
        go.Bar(name="MTTR (min)", x=keys, y=[r.mttr_min for r in rows]),
    ])
    fig.update_layout(title=title, yaxis_title="minutes", **_LAYOUT)
    return _html(fig, div_id)


def counts(rows: list[Row], *, title: str, div_id: str) -> str:
    """Bars of incident counts per key."""
    fig = go.Figure([go.Bar(name="incidents", x=[r.key for r in rows],
                            y=[r.count for r in rows])])
    fig.update_layout(title=title, yaxis_title="incidents", **_LAYOUT)
    return _html(fig, div_id)


def completion(rows: list[Completion], *, div_id: str) -> str:
    """Postmortem completion rate (%) per month."""
    fig = go.Figure([go.Bar(name="completed %", x=[r.key for r in rows],
                            y=[r.rate for r in rows]),
                     go.Bar(name="on time %", x=[r.key for r in rows],
                            y=[100.0 * r.on_time / r.required if r.required else None
                               for r in rows])])
    fig.update_layout(title="Postmortem completion (Sev1/Sev2)", yaxis_title="%",
                      yaxis_range=[0, 100], **_LAYOUT)
    return _html(fig, div_id)
