"""Escalation steps, named chains and routes: what each step kind means, the rules a list of
steps must follow, and saving them for a severity policy or a chain.

Step kinds (run in order by `portal.oncall.paging`):
- `page`: the original step: the primary or secondary of the page's schedule, or one
  person, not before `after_minutes` after the current pass through the steps began;
- `wait`: nothing happens for `minutes`;
- `notify_users`: one or several people;
- `notify_group`: every active member of a catalog team;
- `notify_schedule`: everyone on call now in a schedule (every layer; none given: the
  page's own schedule);
- `repeat`: run the steps again from the top, `count` more times (a page that nobody
  acknowledges is notified 1 + `count` times, then the chain ends);
- `notify_if_count`: go on only once the page's alert group received at least `count`
  alerts within `minutes` (see `portal.oncall.routing`); until then the page waits here;
- `webhook`: POST the page as JSON to `webhook_url` (queued, retried, recorded on the page).
`important` on a notifying step uses each person's important notification rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog.models import Team
from portal.oncall.escalation_models import EscalationChain, EscalationRoute
from portal.oncall.models import SEVERITIES, EscalationPolicy, EscalationStep, Schedule
from portal.oncall.routing import MatcherError, parse_matcher
from portal.oncall.service import OncallError

NOTIFYING = ("page", "notify_users", "notify_group", "notify_schedule")
MAX_STEPS = 20
MAX_MINUTES = 7 * 24 * 60
MAX_REPEATS = 10
MAX_ALERTS = 1000
MAX_USERS = 50


@dataclass(frozen=True)
class StepSpec:
    """One step as a form or an importer describes it, before it is stored."""
    kind: str
    target: str | None = None  # page: primary | secondary | user
    user: User | None = None  # page, target user
    users: tuple[User, ...] = ()  # notify_users
    team: Team | None = None  # notify_group
    schedule: Schedule | None = None  # notify_schedule (None: the page's schedule)
    minutes: int = 0  # wait; the window of notify_if_count
    count: int = 0  # repeat; the alerts of notify_if_count
    after_minutes: int = 0  # page
    important: bool = False
    webhook_url: str | None = None
    label: str = ""
    extra: dict = field(default_factory=dict, compare=False)


def check_webhook_url(url: str | None) -> str:
    """A well-formed http(s) URL; the address itself is vetted when the call is made
    (`portal.security.outbound`), so a name that later resolves inside is still refused."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as exc:
        raise OncallError("The webhook URL is not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OncallError("The webhook URL must start with https:// (or http://) and name "
                          "a host.")
    if parts.username or parts.password:
        raise OncallError("Put no credentials in the webhook URL.")
    if len(url) > 500 or any(ord(c) < 33 for c in url):
        raise OncallError("The webhook URL is too long or contains spaces or control "
                          "characters.")
    return url


def _check_step(n: int, step: StepSpec) -> None:
    where = f"Step {n}"
    if step.kind not in ("page", "wait", "notify_users", "notify_group", "notify_schedule",
                         "repeat", "notify_if_count", "webhook"):
        raise OncallError(f"{where}: unknown kind {step.kind!r}.")
    if not 0 <= step.minutes <= MAX_MINUTES or not 0 <= step.after_minutes <= MAX_MINUTES:
        raise OncallError(f"{where}: minutes must be between 0 and {MAX_MINUTES}.")
    if step.kind == "page":
        if step.target not in ("primary", "secondary", "user"):
            raise OncallError(f"{where}: page the primary, the secondary or a person.")
        if step.target == "user" and step.user is None:
            raise OncallError("A step that pages a person needs that person.")
    elif step.kind == "wait" and not 1 <= step.minutes:
        raise OncallError(f"{where}: wait at least one minute.")
    elif step.kind == "notify_users" and not 1 <= len(step.users) <= MAX_USERS:
        raise OncallError(f"{where}: name between 1 and {MAX_USERS} people to notify.")
    elif step.kind == "notify_group" and step.team is None:
        raise OncallError(f"{where}: choose the team to notify.")
    elif step.kind == "repeat" and not 1 <= step.count <= MAX_REPEATS:
        raise OncallError(f"{where}: repeat between 1 and {MAX_REPEATS} times.")
    elif step.kind == "notify_if_count":
        if not 2 <= step.count <= MAX_ALERTS or not 1 <= step.minutes:
            raise OncallError(f"{where}: give at least 2 alerts (up to {MAX_ALERTS}) and a "
                              "window of at least one minute.")
    elif step.kind == "webhook":
        check_webhook_url(step.webhook_url)
    if step.important and step.kind not in NOTIFYING:
        raise OncallError(f"{where}: only a step that notifies people can be important.")


def validate_steps(steps: list[StepSpec], *, policy: bool) -> None:
    """Raise OncallError when the steps must not be saved.

    Offsets of `page` steps strictly increase unless a wait separates them; a repeat needs
    a wait or an offset before it (else it would notify everyone again at once); a
    severity policy starts by notifying someone at minute 0, as it always has.
    """
    if not steps:
        raise OncallError("Add at least one step.")
    if len(steps) > MAX_STEPS:
        raise OncallError(f"A chain has at most {MAX_STEPS} steps.")
    for n, step in enumerate(steps, start=1):
        _check_step(n, step)
    first = steps[0]
    if policy and (first.kind not in NOTIFYING or first.after_minutes != 0):
        raise OncallError("The first step pages the primary at minute 0 (or notifies "
                          "someone else at once).")
    if sum(1 for s in steps if s.kind == "repeat") > 1:
        raise OncallError("A chain repeats at most once (give that step a count instead).")
    last_offset, waited, delayed = None, False, False
    for n, step in enumerate(steps, start=1):
        if step.kind == "wait":
            waited = delayed = True
        elif step.kind == "page":
            if last_offset is not None and not waited and step.after_minutes <= last_offset:
                raise OncallError("Step times must strictly increase (or put a wait step "
                                  "between them).")
            last_offset, waited = step.after_minutes, False
            delayed = delayed or step.after_minutes > 0
        elif step.kind == "repeat" and not delayed:
            raise OncallError(f"Step {n}: put a wait before repeating, or everyone is "
                              "notified again at once.")


def _rows(steps: list[StepSpec]) -> list[EscalationStep]:
    return [EscalationStep(
        position=position, kind=s.kind, after_minutes=s.after_minutes if s.kind == "page" else 0,
        target=s.target if s.kind == "page" else None,
        user=s.user if s.kind == "page" and s.target == "user" else None,
        users=list(dict.fromkeys(s.users)) if s.kind == "notify_users" else [],
        team=s.team if s.kind == "notify_group" else None,
        schedule=s.schedule if s.kind == "notify_schedule" else None,
        minutes=s.minutes if s.kind in ("wait", "notify_if_count") else 0,
        count=s.count if s.kind in ("repeat", "notify_if_count") else 0,
        important=s.important, label=(s.label or "")[:80],
        # validate_steps ran first, so a webhook step's URL is there (check_webhook_url).
        webhook_url=(s.webhook_url or "").strip() if s.kind == "webhook" else None)
        for position, s in enumerate(steps, start=1)]


def set_policy_steps(*, session: Session, severity: str, description: str, ack_minutes: int,
                     next_business_day: bool, steps: list[StepSpec]) -> EscalationPolicy:
    """Create or replace a severity's policy with steps of any kind."""
    if severity not in SEVERITIES:
        raise OncallError(f"Unknown severity {severity!r}.")
    validate_steps(steps, policy=True)
    policy = session.scalar(select(EscalationPolicy).where(
        EscalationPolicy.severity == severity)) or EscalationPolicy(severity=severity)
    policy.description, policy.ack_minutes = description[:200], ack_minutes
    policy.next_business_day = next_business_day
    policy.steps.clear()
    session.add(policy)
    session.flush()  # the old positions are gone before the new ones take them
    policy.steps.extend(_rows(steps))
    session.flush()
    return policy


def list_chains(*, session: Session) -> list[EscalationChain]:
    """Every named chain, by name."""
    return list(session.scalars(select(EscalationChain).order_by(EscalationChain.name)))


def get_chain(*, session: Session, chain_id: int) -> EscalationChain | None:
    return session.get(EscalationChain, chain_id)


def chain_named(*, session: Session, name: str) -> EscalationChain | None:
    return session.scalar(select(EscalationChain).where(
        func.lower(EscalationChain.name) == name.strip().lower()))


def set_chain(*, session: Session, chain: EscalationChain | None, name: str, description: str,
              steps: list[StepSpec], external_id: str | None = None) -> EscalationChain:
    """Create a chain (`chain` None) or replace its name, description and steps."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 120 or any(ord(c) < 32 for c in name):
        raise OncallError("Give the chain a name of 1 to 120 characters.")
    same = chain_named(session=session, name=name)
    if same is not None and same is not chain:
        raise OncallError(f"A chain named {name!r} already exists.")
    validate_steps(steps, policy=False)
    if chain is None:
        chain = EscalationChain(name=name, external_id=external_id)
        session.add(chain)
    chain.name, chain.description = name, (description or "").strip()[:200]
    chain.steps.clear()
    session.flush()
    chain.steps.extend(_rows(steps))
    session.flush()
    return chain


def delete_chain(*, session: Session, chain: EscalationChain) -> None:
    """Remove a chain with its steps and routes; its open pages go on with their severity's
    policy from where they are."""
    session.delete(chain)
    session.flush()


def list_routes(*, session: Session) -> list[EscalationRoute]:
    """The routes in the order they are tried."""
    return list(session.scalars(select(EscalationRoute).order_by(EscalationRoute.position)))


def add_route(*, session: Session, matcher: str, chain: EscalationChain, name: str = "",
              integration: str = "", external_id: str | None = None,
              route: EscalationRoute | None = None) -> EscalationRoute:
    """Add a route after the others (or change `route`): alerts `matcher` selects page with
    `chain`."""
    try:
        parse_matcher(matcher)
    except MatcherError as exc:
        raise OncallError(str(exc)) from None
    if route is None:
        last = session.scalar(select(func.max(EscalationRoute.position))) or 0
        route = EscalationRoute(position=last + 1, external_id=external_id)
        session.add(route)
    route.matcher, route.chain = matcher.strip(), chain
    route.name, route.integration = (name or "").strip()[:120], (integration or "")[:120]
    session.flush()
    return route


def delete_route(*, session: Session, route: EscalationRoute) -> None:
    session.delete(route)
    session.flush()


def describe(step: EscalationStep) -> str:
    """A step in a few words, for lists, the audit log and the page timeline."""
    loud = " (important)" if step.important else ""
    if step.kind == "page":
        who = step.user.email if step.target == "user" and step.user else step.target
        return f"at {step.after_minutes} min: page {who}{loud}"
    if step.kind == "wait":
        return f"wait {step.minutes} min"
    if step.kind == "notify_users":
        return "notify " + ", ".join(u.email for u in step.users) + loud
    if step.kind == "notify_group":
        return f"notify team {step.team.name if step.team else '(deleted team)'}{loud}"
    if step.kind == "notify_schedule":
        where = step.schedule.name if step.schedule else "the page's schedule"
        return f"notify everyone on call in {where}{loud}"
    if step.kind == "repeat":
        return f"repeat from the top {step.count}×"
    if step.kind == "notify_if_count":
        return f"go on only with ≥{step.count} alerts within {step.minutes} min"
    host = urlsplit(step.webhook_url or "").hostname or "?"
    return f"call webhook at {host}"
