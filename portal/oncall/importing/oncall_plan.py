"""Grafana OnCall objects (dicts shaped like its HTTP API's answers) into an `ImportPlan`.

The API client and the Terraform reader both produce those dicts, so both imports map
the same way. Whatever the portal cannot express goes to `plan.unmapped` with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from portal.oncall.importing.oncall_shifts import shift_or_unmapped
from portal.oncall.importing.plan import (
    ImportPlan,
    PlanChain,
    PlanOverride,
    PlanRotation,
    PlanRoute,
    PlanSchedule,
    PlanStep,
    PlanTeam,
    PlanUser,
    Unmapped,
)

SOURCE: Final = "grafana-oncall"
REPEATS = 5  # Grafana OnCall's "repeat escalation" runs the chain again up to five times


@dataclass
class OnCallObjects:
    """Everything read from one Grafana OnCall, as lists of API-shaped dicts."""
    users: list[dict] = field(default_factory=list)
    teams: list[dict] = field(default_factory=list)
    schedules: list[dict] = field(default_factory=list)
    shifts: list[dict] = field(default_factory=list)
    chains: list[dict] = field(default_factory=list)
    policies: list[dict] = field(default_factory=list)
    integrations: list[dict] = field(default_factory=list)
    routes: list[dict] = field(default_factory=list)


def _text(value, limit: int = 200) -> str:
    return str(value)[:limit] if value is not None else ""


def _users(objects: OnCallObjects, plan: ImportPlan) -> None:
    for user in objects.users:
        email = _text(user.get("email"), 254)
        if "@" not in email:
            plan.unmapped.append(Unmapped("user", _text(user.get("id")),
                                          _text(user.get("username")),
                                          "Not imported: the user has no e-mail address."))
            continue
        plan.users.append(PlanUser(_text(user.get("id")), email,
                                   _text(user.get("username") or email, 120),
                                   _text(user.get("timezone") or "UTC", 64)))
    for team in objects.teams:
        team_id = _text(team.get("id"))
        members = tuple(_text(u.get("id")) for u in objects.users
                        if team_id in (u.get("teams") or []))
        plan.teams.append(PlanTeam(team_id, _text(team.get("name") or team_id, 120), members))


def _schedules(objects: OnCallObjects, plan: ImportPlan) -> None:
    shifts = {_text(s.get("id")): s for s in objects.shifts}
    used: set[str] = set()
    known_users = {u.external_id for u in plan.users}
    for schedule in objects.schedules:
        sid, name = _text(schedule.get("id")), _text(schedule.get("name") or "schedule", 120)
        if schedule.get("type") == "ical":
            plan.unmapped.append(Unmapped("schedule", sid, name, "Not imported: the schedule "
                                          "is read from an iCal URL; import that calendar's "
                                          "rotations by hand."))
            continue
        zone = _text(schedule.get("time_zone") or "UTC", 64)
        ids = [_text(i) for i in schedule.get("shifts") or []]
        ids += [i for i, s in shifts.items() if s.get("schedule") == sid and i not in ids]
        rotations: list[PlanRotation] = []
        overrides: list[PlanOverride] = []
        for shift_id in ids:
            used.add(shift_id)
            if shift_id not in shifts:
                plan.unmapped.append(Unmapped("on_call_shift", shift_id, "", f"Not imported: "
                                              f"schedule {name!r} names a shift that was not "
                                              "found."))
                continue
            mapped = shift_or_unmapped(shifts[shift_id], schedule_zone=zone)
            if isinstance(mapped, Unmapped):
                plan.unmapped.append(mapped)
                continue
            people = mapped.user_ids if isinstance(mapped, PlanOverride) else [
                p for group in mapped.participants for p in group]
            for missing in sorted(set(people) - known_users):
                plan.unmapped.append(Unmapped("user", missing, "", f"Shift {shift_id} names a "
                                              "user that was not found; the shift goes on "
                                              "without them."))
            if isinstance(mapped, PlanOverride):
                overrides.append(mapped)
            else:
                rotations.append(mapped)
        plan.schedules.append(PlanSchedule(sid, name, zone, _text(schedule.get("team_id"))
                                           or None, tuple(rotations), tuple(overrides)))
    for shift_id, shift in shifts.items():
        if shift_id not in used:
            plan.unmapped.append(Unmapped("on_call_shift", shift_id, _text(shift.get("name")),
                                          "Not imported: the shift is in no schedule."))


def _step(policy: dict) -> PlanStep | str:
    kind = policy.get("type")
    important = bool(policy.get("important"))
    if kind == "wait":
        return PlanStep("wait", minutes=max(1, int(policy.get("duration") or 60) // 60))
    if kind == "notify_persons":
        return PlanStep("notify_users", tuple(_text(p) for p in
                                              policy.get("persons_to_notify") or []),
                        important=important)
    if kind == "notify_on_call_from_schedule":
        return PlanStep("notify_schedule", (_text(policy.get("notify_on_call_from_schedule")),),
                        important=important)
    if kind == "notify_team_members":
        return PlanStep("notify_group", (_text(policy.get("notify_to_team_members")),),
                        important=important)
    if kind == "repeat_escalation":
        return PlanStep("repeat", count=REPEATS)
    if kind == "notify_if_num_alerts_in_window":
        return PlanStep("notify_if_count", minutes=int(policy.get("num_minutes_in_window") or 0),
                        count=int(policy.get("num_alerts_in_window") or 0))
    return f"Step type {str(kind)[:40]!r} has no equivalent in the portal."


def _chains(objects: OnCallObjects, plan: ImportPlan) -> None:
    for chain in objects.chains:
        cid = _text(chain.get("id"))
        steps = []
        policies = sorted((p for p in objects.policies if p.get("escalation_chain_id") == cid),
                          key=lambda p: p.get("position") or 0)
        for policy in policies:
            step = _step(policy)
            if isinstance(step, str):
                plan.unmapped.append(Unmapped("escalation_policy", _text(policy.get("id")),
                                              _text(chain.get("name")), f"Left out: {step}"))
            else:
                steps.append(step)
        plan.chains.append(PlanChain(cid, _text(chain.get("name") or cid), tuple(steps)))
    names = {_text(i.get("id")): _text(i.get("name")) for i in objects.integrations}
    for integration in objects.integrations:
        default = integration.get("default_route") or {}
        if default.get("id"):
            plan.routes.append(PlanRoute(_text(default["id"]), _text(integration.get("name")),
                                         "", _text(default.get("escalation_chain_id")) or None))
    for route in sorted(objects.routes, key=lambda r: r.get("position") or 0):
        rid = _text(route.get("id"))
        if route.get("is_the_last_route"):
            continue  # the integration's default route, listed above
        if route.get("routing_type", "regex") != "regex":
            plan.unmapped.append(Unmapped("route", rid, _text(route.get("routing_regex")),
                                          "Not imported: Jinja2 routing templates cannot be "
                                          "translated; only regular expressions can."))
            continue
        plan.routes.append(PlanRoute(rid, names.get(_text(route.get("integration_id")),
                                                    _text(route.get("integration_id"))),
                                     _text(route.get("routing_regex"), 1000),
                                     _text(route.get("escalation_chain_id")) or None))


def build_plan(objects: OnCallObjects) -> ImportPlan:
    """The import plan of everything read from one Grafana OnCall."""
    plan = ImportPlan(source=SOURCE)
    _users(objects, plan)
    _schedules(objects, plan)
    _chains(objects, plan)
    return plan
