"""The dashboard's per-day tables as HTML rows, built in Python.

Up to 366 days times five columns: Jinja's attribute lookup and escaping per cell cost
more than all the dashboard's queries together. Numbers and ISO dates need no escaping;
any string cell is escaped.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

EMPTY = "–"


def _cell(value: object) -> str:
    if value is None:
        return EMPTY
    if isinstance(value, (int, float)):
        return str(value)
    return str(escape(value))


def rows(table: Iterable[Sequence]) -> Markup:
    """`<tr>` rows of `<td>` cells, None shown as a dash."""
    return Markup("".join("<tr><td>" + "</td><td>".join(map(_cell, row)) + "</td></tr>"
                          for row in table))


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _percent(value: float | None) -> str | None:
    return None if value is None else f"{value}%"


def per_day(data: dict) -> dict[str, Markup]:
    """The bodies of the per-day tables: orders by status, fulfillment, API requests."""
    days, fulfillment, api = data["days"], data["fulfillment"], data["api"]
    return {
        "orders": rows(zip(days, *data["orders"]["per_status"].values())),
        "fulfillment": rows(zip(days, map(_minutes, fulfillment["p50"]),
                                map(_minutes, fulfillment["p95"]))),
        "api": rows(zip(days, api["requests"], api["client_errors"], api["server_errors"],
                        map(_percent, api["error_rate"]))),
    }
