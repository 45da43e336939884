"""Which chain pages an alert, and whether a page's alert group is busy enough to go on.

Routes: a route's matcher is Alertmanager's label-matcher text, e.g.
`{service="order", team=~"pay.*", env!="dev"}` (the braces may be left out). It is parsed
with the PromQL grammar and evaluated exactly as silences are (`portal.oncall.silences`:
regexes fully anchored with RE2 semantics, a missing label read as the empty string), so a
matcher previewed as a silence selects the same alerts as a route. Routes are tried in
order; the first whose matcher holds for the opening alert's labels chooses the chain.
An alert no route matches, and an incident declared by hand, page with the severity's
policy as before.

The alert group of a page (for `notify_if_count` steps) is every alert the Alertmanager
webhook delivered (`oncall_alerts`, one row per fingerprint) that takes the page's path:
the alerts its route's matcher selects when a route chose the chain; otherwise those with
the same `service` label as the page's alert (or the same `alertname` when it has no
service). The condition "N alerts within M minutes" holds when at least N distinct alerts
of the group started firing (Alertmanager's `startsAt`; an alert that resolves and fires
again starts anew) in the M minutes up to the check. A page opened without an alert (an
incident declared by hand) has no group: a person already judged it, so the condition holds.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import promql_parser
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.integrations.alertmanager import Matcher
from portal.oncall import silences
from portal.oncall.escalation_models import EscalationRoute
from portal.oncall.models import Page, ReceivedAlert

MAX_MATCHER = 1000
MAX_SCANNED = 20_000  # alerts of one window inspected per check; a storm beyond is "enough"
_OPS = {"Equal": (False, True), "NotEqual": (False, False), "Re": (True, True),
        "NotRe": (True, False)}


class MatcherError(ValueError):
    """A route matcher the portal refuses; the message says why."""


def parse_matcher(text: str) -> tuple[Matcher, ...]:
    """The label matchers of `text`; raises MatcherError with a readable reason."""
    text = (text or "").strip()
    if not text:
        raise MatcherError("Give a matcher such as {service=\"order\"}.")
    if len(text) > MAX_MATCHER:
        raise MatcherError(f"A matcher is at most {MAX_MATCHER} characters.")
    if "\x00" in text:
        raise MatcherError("A matcher cannot contain NUL bytes.")
    selector = text if text.startswith("{") else "{" + text + "}"
    try:
        expr = promql_parser.parse(selector)
    except ValueError as exc:
        raise MatcherError(f"Not a label matcher: {exc}.") from exc
    if (not isinstance(expr, promql_parser.VectorSelector) or expr.name
            or expr.offset is not None or expr.at is not None):
        raise MatcherError('Write only label matchers, e.g. {service="order", env!="dev"}.')
    matchers = []
    for m in expr.matchers.matchers:
        is_regex, is_equal = _OPS[str(m.op).rpartition(".")[2]]
        matcher = Matcher(m.name, m.value, is_regex, is_equal)
        if is_regex:
            try:
                silences.compile_regex(m.value)
            except silences.SilenceError as exc:
                raise MatcherError(f"The regular expression for {m.name} is invalid: "
                                   f"{exc}") from None
        matchers.append(matcher)
    if silences.matches_everything(tuple(matchers)):
        raise MatcherError("This matcher selects every alert; the severity policies already "
                           "page those. Narrow it down, e.g. with service or team.")
    return tuple(matchers)


def selects(matchers: tuple[Matcher, ...], labels: dict) -> bool:
    """Whether every matcher holds for the labels (a missing label reads as "")."""
    return all(silences.matches(m, str(labels.get(m.name, ""))) for m in matchers)


def route_for(*, session: Session, labels: dict) -> EscalationRoute | None:
    """The first route, in order, whose matcher selects an alert with `labels`."""
    if not labels:
        return None
    for route in session.scalars(select(EscalationRoute).order_by(EscalationRoute.position)):
        try:
            if selects(parse_matcher(route.matcher), labels):
                return route
        except (MatcherError, silences.SilenceError):
            continue  # stored before a rule tightened: it matches nothing rather than fail
    return None


def group_count(*, session: Session, page: Page, route: EscalationRoute | None,
                minutes: int, now: datetime, enough: int) -> int | None:
    """How many alerts of the page's group started firing in the `minutes` up to `now`
    (counting stops at `enough`); None when the page has no alert group."""
    labels = page.alert_labels or {}
    if not labels:
        return None
    since = now - timedelta(minutes=minutes)
    stmt = select(ReceivedAlert.labels).where(ReceivedAlert.starts_at > since,
                                              ReceivedAlert.starts_at <= now)
    matchers: tuple[Matcher, ...] | None = None
    if route is not None:
        try:
            matchers = parse_matcher(route.matcher)
        except MatcherError:
            matchers = None
    if matchers is None:
        if labels.get("service"):
            stmt = stmt.where(ReceivedAlert.labels["service"].astext == str(labels["service"]))
        else:
            stmt = stmt.where(ReceivedAlert.labels["alertname"].astext
                              == str(labels.get("alertname", "")))
    found = 0
    for (row_labels,) in session.execute(stmt.limit(MAX_SCANNED)).yield_per(500):
        if matchers is None or selects(matchers, row_labels or {}):
            found += 1
            if found >= enough:
                break
    return found
