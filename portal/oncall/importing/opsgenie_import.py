"""Read an Opsgenie account into an `ImportPlan`: users, teams, schedules with their
rotations and overrides, escalations and the teams' routing rules.

`read_opsgenie` talks to the API (see `opsgenie_client`); `plan_from` turns the answers
into the plan without any network, so the mapping is tested on documented payloads.
Nothing is written: the dry run shows the plan, `apply_plan` writes it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from portal.oncall.importing import opsgenie_escalations, opsgenie_rotations, opsgenie_schedules
from portal.oncall.importing.opsgenie_client import REGIONS, OpsgenieClient, OpsgenieError
from portal.oncall.importing.plan import ImportPlan, PlanTeam, PlanUser, Unmapped

__all__ = ["REGIONS", "OpsgenieError", "plan_from", "plan_from_region", "read_opsgenie"]


def _users(raw: Iterable[Mapping], notes: list[Unmapped]) -> list[PlanUser]:
    users = []
    for item in raw:
        uid, email = str(item.get("id") or ""), str(item.get("username") or "").strip()
        if not uid or "@" not in email:
            notes.append(Unmapped("user", uid, email or uid,
                                  "Not imported: an Opsgenie user's username must be an "
                                  "e-mail address."))
            continue
        zone = opsgenie_rotations.zone_name(item.get("timeZone") or "UTC") or "UTC"
        users.append(PlanUser(external_id=uid, email=email.lower(),
                              name=str(item.get("fullName") or email), time_zone=zone))
    return users


def _teams(raw: Iterable[Mapping]) -> tuple[list[PlanTeam], dict[str, dict[str, str]]]:
    """The teams, and each team's member roles ({team id: {user id: role}})."""
    teams, roles = [], {}
    for item in raw:
        tid = str(item.get("id") or "")
        members = [m for m in item.get("members") or () if isinstance(m, Mapping)
                   and isinstance(m.get("user"), Mapping) and m["user"].get("id")]
        ids = tuple(dict.fromkeys(str(m["user"]["id"]) for m in members))
        teams.append(PlanTeam(external_id=tid, name=str(item.get("name") or tid),
                              member_ids=ids))
        roles[tid] = {str(m["user"]["id"]): str(m.get("role") or "user") for m in members}
    return teams, roles


def plan_from(*, users: Sequence[Mapping], teams: Sequence[Mapping],
              schedules: Sequence[Mapping], overrides: Mapping[str, Sequence[Mapping]],
              escalations: Sequence[Mapping], routing_rules: Mapping[str, Sequence[Mapping]],
              now: datetime) -> ImportPlan:
    """The plan of Opsgenie's answers: `teams` with members, `schedules` with rotations,
    `overrides` and `routing_rules` by schedule and team id."""
    plan = ImportPlan(source="opsgenie")
    notes = plan.unmapped
    plan.users = _users(users, notes)
    plan.teams, roles = _teams(teams)
    team_by_id = {t.external_id: t for t in plan.teams}
    for raw in schedules:
        found = opsgenie_schedules.schedule(raw, overrides.get(str(raw.get("id")), ()),
                                            teams=team_by_id, now=now, notes=notes)
        if found is not None:
            plan.schedules.append(found)
    plan.chains = [opsgenie_escalations.chain(raw, teams=team_by_id, roles=roles, notes=notes)
                   for raw in escalations]
    names = {str(s.get("id")): str(s.get("name") or s.get("id")) for s in schedules}
    for team in plan.teams:
        found_routes, chains = opsgenie_escalations.routes(
            team.external_id, routing_rules.get(team.external_id, ()), team_name=team.name,
            schedule_names=names, notes=notes)
        plan.routes += found_routes
        plan.chains += [c for c in chains
                        if all(c.external_id != known.external_id for known in plan.chains)]
    return plan


def read_opsgenie(*, base_url: str, api_key: str, allowlist: Iterable[str] = (),
                  timeout: float = 15.0, now: datetime | None = None,
                  client: OpsgenieClient | None = None) -> ImportPlan:
    """Read the Opsgenie account behind `api_key` at `base_url` (see `REGIONS`) into a plan.

    Raises `OpsgenieError` (a message for the person importing) when Opsgenie cannot be
    read; what can be read but not expressed is in the plan's `unmapped`."""
    client = client or OpsgenieClient(base_url=base_url, api_key=api_key, timeout=timeout,
                                      allowlist=allowlist)
    teams = client.teams()
    schedules = client.schedules()
    answers: dict[str, Any] = {
        "users": client.users(), "teams": teams, "schedules": schedules,
        "overrides": {str(s["id"]): client.overrides(str(s["id"]))
                      for s in schedules if s.get("id") and s.get("enabled") is not False},
        "escalations": client.escalations(),
        "routing_rules": {str(t["id"]): client.routing_rules(str(t["id"]))
                          for t in teams if t.get("id")}}
    try:
        return plan_from(**answers, now=now or datetime.now(UTC))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # The mapping reads documented shapes; anything else is Opsgenie's (or an impostor's)
        # answer being odd, which the person importing should hear about, not a crash.
        raise OpsgenieError(f"Opsgenie's answer had an unexpected shape ({type(exc).__name__}); "
                            f"nothing was imported.") from exc


def plan_from_region(*, region: str, api_key: str, allowlist: Iterable[str] = ()) -> ImportPlan:
    """`read_opsgenie` for the import page: the account's region ("us" or "eu") picks the
    documented API host, so the page never sends a key to an address a person typed."""
    if region not in REGIONS:
        raise OpsgenieError("Choose the region of the Opsgenie account: US or EU.")
    return read_opsgenie(base_url=REGIONS[region], api_key=api_key, allowlist=allowlist)
