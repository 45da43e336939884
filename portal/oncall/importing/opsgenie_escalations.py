"""Opsgenie escalations and team routing rules as the portal's chains and routes.

Escalations: each rule fires `delay` after the alert was created (not after the previous
rule), so the delays become `wait` steps of the differences. A rule notifies a user, a
schedule's on-call people, or a team (all members, its admins or its plain users); a
`repeat` becomes a wait of `waitInterval` minutes and a `repeat` step. What has no portal
equivalent (a nested escalation, "next/previous on-call of a schedule", the team's own
routing, "if not closed") is reported as `Unmapped`; the rest of the chain is kept.

Routing rules (per team, in `order`): the criteria become an Alertmanager-style label matcher
(`{priority="P1", service=~"pay.*"}`) on the alert's labels: Opsgenie's extra properties
(details) and priority are labels here; conditions on the message, tags and other alert
texts are not, and such rules are reported. "Any condition" becomes one route per
condition. A rule that notifies a schedule gets a one-step chain of its own; one that
notifies nobody becomes a route without a chain (matching alerts page nobody).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from portal.integrations.alertmanager import Matcher
from portal.oncall.importing.plan import PlanChain, PlanRoute, PlanStep, PlanTeam, Unmapped

UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 24 * 60}
LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SCHEDULE_CHAIN = "schedule:"  # external id prefix of the one-step chains of routing rules


def minutes(delay: object) -> int:
    """An Opsgenie Duration ({"timeAmount": 5, "timeUnit": "minutes"}) in whole minutes."""
    if not isinstance(delay, Mapping):
        return 0
    unit = str(delay.get("timeUnit") or "minutes")
    amount = int(delay.get("timeAmount") or 0)
    if unit in UNIT_MINUTES:
        return amount * UNIT_MINUTES[unit]
    if unit == "seconds":
        return -(-amount // 60)  # a part of a minute still waits: round up
    return 0  # milliseconds and finer: no wait at all


def _notify_step(rule: Mapping, teams: Mapping[str, PlanTeam],
                 roles: Mapping[str, Mapping[str, str]], where: str,
                 notes: list[Unmapped]) -> PlanStep | None:
    recipient = found if isinstance(found := rule.get("recipient"), Mapping) else {}
    kind, rid = recipient.get("type"), str(recipient.get("id") or "")
    notify = rule.get("notifyType") or "default"
    label = recipient.get("name") or recipient.get("username") or rid
    if kind == "user" and rid:
        return PlanStep("notify_users", (rid,))
    if kind == "schedule" and notify == "default":
        return PlanStep("notify_schedule", (rid,))
    if kind == "schedule":
        notes.append(Unmapped("escalation rule", rid, where,
                              f"Notifying the {notify} on-call person of schedule {label} is "
                              f"not possible in the portal; this rule was left out."))
        return None
    if kind == "team" and rid in teams:
        team = teams[rid]
        if notify == "all":
            return PlanStep("notify_group", (rid,))
        if notify in ("admins", "users"):
            people = tuple(members_with_role(team, roles.get(rid, {}), notify))
            if people:
                return PlanStep("notify_users", people)
            notes.append(Unmapped("escalation rule", rid, where,
                                  f"Team {team.name} has no {notify}; this rule notifies "
                                  f"nobody and was left out."))
            return None
        notes.append(Unmapped("escalation rule", rid, where,
                              f"Opsgenie passes the alert to team {team.name}'s routing "
                              f"rules; the portal notifies all of its members instead."))
        return PlanStep("notify_group", (rid,))
    notes.append(Unmapped("escalation rule", rid, where,
                          f"A rule notifying a {kind or 'unknown'} ({label}) cannot be "
                          f"expressed in the portal; this rule was left out."))
    return None


def members_with_role(team: PlanTeam, roles: Mapping[str, str], notify: str) -> list[str]:
    """The members of `team` that an "admins" or "users" rule notifies."""
    wanted = "admin" if notify == "admins" else "user"
    return [m for m in team.member_ids if roles.get(m, "user") == wanted]


def chain(raw: Mapping, *, teams: Mapping[str, PlanTeam],
          roles: Mapping[str, Mapping[str, str]], notes: list[Unmapped]) -> PlanChain:
    """One Opsgenie escalation as a chain of steps; `roles` are the team members' roles
    ({team id: {user id: "admin" | "user"}})."""
    eid, name = str(raw.get("id") or ""), str(raw.get("name") or raw.get("id") or "escalation")
    rules = sorted((r for r in raw.get("rules") or () if isinstance(r, Mapping)),
                   key=lambda r: minutes(r.get("delay")))  # stable: same delay keeps order
    steps: list[PlanStep] = []
    elapsed = 0
    for number, rule in enumerate(rules, start=1):
        where = f"{name}, rule {number}"
        if rule.get("condition") == "if-not-closed":
            notes.append(Unmapped("escalation rule", eid, where,
                                  "Opsgenie notifies until the alert is closed; the portal "
                                  "stops escalating once the page is acknowledged."))
        step = _notify_step(rule, teams, roles, where, notes)
        if step is None:
            continue
        due = minutes(rule.get("delay"))
        if due > elapsed:
            steps.append(PlanStep("wait", minutes=due - elapsed))
            elapsed = due
        steps.append(step)
    repeat = found if isinstance(found := raw.get("repeat"), Mapping) else {}
    count = int(repeat.get("count") or 0)
    if count > 0 and steps:
        wait = int(repeat.get("waitInterval") or 0)
        if wait > 0:
            steps.append(PlanStep("wait", minutes=wait))
        steps.append(PlanStep("repeat", count=count))
        if repeat.get("closeAlertAfterAll"):
            notes.append(Unmapped("escalation", eid, name,
                                  "Opsgenie closes the alert after the last repeat; the "
                                  "portal leaves the page open."))
    if not steps:
        notes.append(Unmapped("escalation", eid, name,
                              "None of its rules could be imported: the chain is empty."))
    return PlanChain(external_id=eid, name=name, steps=tuple(steps))


def _condition(cond: Mapping) -> Matcher | str:
    """One criteria condition as a label matcher, or the reason it cannot be one."""
    field, op = str(cond.get("field") or ""), str(cond.get("operation") or "")
    negate, value = bool(cond.get("not")), str(cond.get("expectedValue") or "")
    if field in ("extra-properties", "details"):
        name = str(cond.get("key") or "")
    elif field == "priority":
        name = "priority"
    else:
        return f"it matches the alert's {field or 'unknown field'}, which is not a label here"
    if not LABEL.match(name):
        return f"{name!r} cannot be an alert label name"
    pattern = {"matches": value, "contains": f".*{re.escape(value)}.*",
               "starts-with": f"{re.escape(value)}.*", "ends-with": f".*{re.escape(value)}",
               "contains-key": ".+"}.get(op)
    if op in ("equals", "is-empty"):
        return Matcher(name, value if op == "equals" else "", is_equal=not negate)
    if pattern is not None:
        return Matcher(name, pattern, is_regex=True, is_equal=not negate)
    return f"the operation {op!r} has no label-matcher equivalent"


def _matchers(criteria: Mapping | None) -> list[list[Matcher]] | str:
    """The criteria as alternatives of AND-ed matchers, or why they cannot be."""
    kind = (criteria or {}).get("type") or "match-all"
    if kind == "match-all":
        return [[]]
    conditions = [c for c in (criteria or {}).get("conditions") or ()
                  if isinstance(c, Mapping)]
    converted = [_condition(c) for c in sorted(conditions, key=lambda c: c.get("order") or 0)]
    problem = next((c for c in converted if isinstance(c, str)), None)
    if problem is not None:
        return problem
    if kind == "match-all-conditions":
        return [list(converted)]  # type: ignore[arg-type]
    if kind == "match-any-condition":
        return [[m] for m in converted]  # type: ignore[list-item]
    return f"criteria type {kind!r} is unknown"


def routes(team_id: str, rules: Sequence[Mapping], *, team_name: str,
           schedule_names: Mapping[str, str], notes: list[Unmapped]
           ) -> tuple[list[PlanRoute], list[PlanChain]]:
    """A team's routing rules in order, and the one-step chains of rules naming a schedule."""
    out: list[PlanRoute] = []
    chains: list[PlanChain] = []
    for rule in sorted((r for r in rules if isinstance(r, Mapping)),
                       key=lambda r: int(r.get("order") or 0)):
        rid = str(rule.get("id") or "")
        where = f"{team_name}: {rule.get('name') or 'routing rule'}"
        if rule.get("timeRestriction"):
            notes.append(Unmapped("routing rule", rid, where,
                                  "Applies only at certain times; the portal's routes always "
                                  "apply, so it was left out. Recreate it by hand if needed."))
            continue
        alternatives = _matchers(rule.get("criteria"))
        if isinstance(alternatives, str):
            notes.append(Unmapped("routing rule", rid, where, f"Left out: {alternatives}."))
            continue
        notify = found if isinstance(found := rule.get("notify"), Mapping) else {}
        target, kind = str(notify.get("id") or ""), notify.get("type")
        if kind == "escalation" and target:
            chain_id: str | None = target
        elif kind == "schedule" and target:
            chain_id = SCHEDULE_CHAIN + target
            if all(c.external_id != chain_id for c in chains):
                name = schedule_names.get(target, notify.get("name") or target)
                chains.append(PlanChain(chain_id, f"Notify {name}",
                                        (PlanStep("notify_schedule", (target,)),)))
        elif kind == "none":
            chain_id = None
        else:
            notes.append(Unmapped("routing rule", rid, where,
                                  f"Left out: it notifies a {kind or 'missing'} target."))
            continue
        for n, matchers in enumerate(alternatives):
            matcher = "{" + ", ".join(m.as_filter() for m in matchers) + "}" if matchers else ""
            external = rid if len(alternatives) == 1 else f"{rid}#{n + 1}"
            out.append(PlanRoute(external_id=external, integration=team_name,
                                 matcher=matcher, chain_id=chain_id))
    return out, chains
