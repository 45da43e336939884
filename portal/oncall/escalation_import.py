"""Write an import plan's escalation chains and routes (`portal.oncall.importing.plan`) as
the portal's own, for the Grafana OnCall and Opsgenie importers.

The importer first applies users, teams and schedules and passes what they became as dicts
of external id → local id. Each call is idempotent: a chain is found again by its external
id (else adopted by its name), a route by its external id, and a re-run replaces what an
earlier run wrote. Whatever the portal cannot express comes back as `Unmapped` (and is left
out), never as an exception:
- people, teams and schedules the plan did not bring;
- waits and windows beyond a week, and repeats beyond ten (clamped, and said so);
- a repeat with no wait before it (it would notify everyone again at once), or a second one;
- a count condition of fewer than two alerts (it always holds: left out);
- webhook URLs that are not plain http(s) URLs;
- routes without a matcher (an integration's default route: in the portal, alerts that
  match no route page with their severity's policy) or with one the portal cannot parse.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog.models import Team
from portal.oncall import escalation
from portal.oncall.escalation import MAX_ALERTS, MAX_MINUTES, MAX_REPEATS, StepSpec
from portal.oncall.escalation_models import EscalationChain, EscalationRoute
from portal.oncall.importing.plan import PlanChain, PlanRoute, PlanStep, Unmapped
from portal.oncall.models import Schedule
from portal.oncall.service import OncallError


@dataclass
class ChainResult:
    chain: EscalationChain | None  # None: nothing of it could be expressed
    created: bool
    steps: int = 0
    unmapped: list[Unmapped] = field(default_factory=list)


@dataclass
class RouteResult:
    route: EscalationRoute | None
    created: bool
    unmapped: list[Unmapped] = field(default_factory=list)


class _Mapper:
    """Turns one chain's plan steps into specs, collecting what it leaves out."""

    def __init__(self, session: Session, chain: PlanChain, users: dict, teams: dict,
                 schedules: dict):
        self.session, self.chain = session, chain
        self.users, self.teams, self.schedules = users, teams, schedules
        self.unmapped: list[Unmapped] = []
        self.waited = self.repeated = False

    def note(self, n: int, reason: str) -> None:
        self.unmapped.append(Unmapped("escalation_step", f"{self.chain.external_id}#{n}",
                                      self.chain.name, f"step {n}: {reason}"))

    def bounded(self, n: int, value: int, low: int, high: int, what: str) -> int | None:
        if value < low:
            self.note(n, f"{what} {value} is below {low}; left out")
            return None
        if value > high:
            self.note(n, f"{what} {value} is above the portal's {high}; {high} used")
        return min(value, high)

    def local(self, n: int, kind: str, ids: dict, model, external: str):
        local_id = ids.get(external)
        row = self.session.get(model, local_id) if local_id is not None else None
        if row is None:
            self.note(n, f"{kind} {external} was not imported")
        return row

    def spec(self, n: int, step: PlanStep) -> StepSpec | None:
        base: dict[str, Any] = {"kind": step.kind, "important": step.important
                                and step.kind in escalation.NOTIFYING}
        if step.kind == "wait":
            minutes = self.bounded(n, step.minutes, 1, MAX_MINUTES, "a wait of minutes")
            self.waited = self.waited or minutes is not None
            return None if minutes is None else StepSpec(**base, minutes=minutes)
        if step.kind == "notify_users":
            found = [self.local(n, "user", self.users, User, t) for t in step.targets]
            people = tuple(u for u in found if u is not None)
            if not people:
                self.note(n, "nobody left to notify; left out")
                return None
            return StepSpec(**base, users=people)
        if step.kind == "notify_group":
            if not step.targets:
                self.note(n, "no team given; left out")
                return None
            team = self.local(n, "team", self.teams, Team, step.targets[0])
            return None if team is None else StepSpec(**base, team=team)
        if step.kind == "notify_schedule":
            schedule = self.local(n, "schedule", self.schedules, Schedule, step.targets[0]) \
                if step.targets else None
            if step.targets and schedule is None:
                return None
            return StepSpec(**base, schedule=schedule)
        if step.kind == "repeat":
            if self.repeated or not self.waited:
                self.note(n, "a second repeat" if self.repeated
                          else "a repeat without a wait before it would notify everyone "
                               "again at once; left out")
                return None
            count = self.bounded(n, step.count, 1, MAX_REPEATS, "a repeat count of")
            self.repeated = count is not None
            return None if count is None else StepSpec(**base, count=count)
        if step.kind == "notify_if_count":
            count = self.bounded(n, step.count, 2, MAX_ALERTS, "an alert count of")
            minutes = self.bounded(n, step.minutes, 1, MAX_MINUTES, "a window of minutes")
            if count is None or minutes is None:
                return None
            return StepSpec(**base, count=count, minutes=minutes)
        if step.kind == "webhook":
            try:
                url = escalation.check_webhook_url(step.webhook_url)
            except OncallError as exc:
                self.note(n, f"{exc} Left out.")
                return None
            return StepSpec(**base, webhook_url=url)
        self.note(n, f"the portal has no step of kind {step.kind!r}")
        return None


def _existing_chain(session: Session, plan: PlanChain) -> tuple[EscalationChain | None, str]:
    """The chain an earlier run made (or one of the same name to adopt), and its name."""
    found = session.scalar(select(EscalationChain).where(
        EscalationChain.external_id == plan.external_id))
    name = (plan.name or plan.external_id).strip()[:120] or plan.external_id[:120]
    if found is not None:
        return found, name
    same = escalation.chain_named(session=session, name=name)
    if same is None or same.external_id in (None, plan.external_id):
        return same, name
    return None, f"{name[:100]} ({plan.external_id[:16]})"  # another import's chain


def apply_chain(*, session: Session, chain: PlanChain, users: dict[str, int],
                teams: dict[str, int], schedules: dict[str, int]) -> ChainResult:
    """Create or update the chain of a plan; see the module docstring."""
    mapper = _Mapper(session, chain, users, teams, schedules)
    specs = [s for s in (mapper.spec(n, step) for n, step in enumerate(chain.steps, start=1))
             if s is not None]
    existing, name = _existing_chain(session, chain)
    if not specs:
        mapper.unmapped.append(Unmapped("escalation_chain", chain.external_id, chain.name,
                                        "no step of this chain can be expressed"))
        return ChainResult(existing, False, 0, mapper.unmapped)
    try:
        saved = escalation.set_chain(session=session, chain=existing, name=name,
                                     description=f"Imported ({chain.external_id})"[:200],
                                     steps=specs, external_id=chain.external_id)
    except OncallError as exc:
        mapper.unmapped.append(Unmapped("escalation_chain", chain.external_id, chain.name,
                                        str(exc)))
        return ChainResult(existing, False, 0, mapper.unmapped)
    saved.external_id = chain.external_id
    session.flush()
    return ChainResult(saved, existing is None, len(specs), mapper.unmapped)


def apply_route(*, session: Session, route: PlanRoute, chains: dict[str, int]) -> RouteResult:
    """Create or update the route of a plan (`chains`: plan chain id → local chain id)."""
    def unmapped(reason: str) -> RouteResult:
        return RouteResult(None, False, [Unmapped("route", route.external_id,
                                                  route.matcher or route.integration, reason)])

    if not (route.matcher or "").strip():
        return unmapped("the integration's default route: alerts that match no route page "
                        "with their severity's policy in the portal")
    local = chains.get(route.chain_id) if route.chain_id else None
    chain = session.get(EscalationChain, local) if local is not None else None
    if chain is None:
        return unmapped(f"its escalation chain {route.chain_id or '(none)'} was not imported")
    existing = session.scalar(select(EscalationRoute).where(
        EscalationRoute.external_id == route.external_id))
    try:
        saved = escalation.add_route(session=session, matcher=route.matcher, chain=chain,
                                     name=f"{route.integration}"[:120],
                                     integration=route.integration,
                                     external_id=route.external_id, route=existing)
    except OncallError as exc:
        return unmapped(f"its matcher cannot be used: {exc}")
    return RouteResult(saved, existing is None)
