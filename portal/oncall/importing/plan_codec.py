"""An `ImportPlan` to JSON and back, signed: the dry-run page hands the plan it showed to
its Apply button, so Apply writes exactly what was previewed without the source being read
again (and without the API token ever leaving the request that used it)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, overload

from itsdangerous import BadSignature, URLSafeTimedSerializer

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
    Window,
)

SALT = "oncall-import-plan"
MAX_AGE = 3600  # a dry run is applied within the hour or run again


class PlanExpired(ValueError):
    """The signed plan is invalid or older than an hour."""


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@overload
def _from_dt(value: str) -> datetime: ...


@overload
def _from_dt(value: None) -> None: ...


def _from_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _rotation(r: PlanRotation) -> dict:
    return {"name": r.name, "level": r.level, "time_zone": r.time_zone, "start": _dt(r.start),
            "frequency": r.frequency, "interval": r.interval,
            "participants": [list(g) for g in r.participants],
            "duration": None if r.duration is None else r.duration.total_seconds(),
            "until": _dt(r.until),
            "windows": [[list(w.weekdays), w.start.isoformat(), w.end.isoformat()]
                        for w in r.windows]}


def _from_rotation(d: dict) -> PlanRotation:
    return PlanRotation(
        d["name"], d["level"], d["time_zone"], _from_dt(d["start"]), d["frequency"],
        d["interval"], tuple(tuple(g) for g in d["participants"]),
        duration=None if d["duration"] is None else timedelta(seconds=d["duration"]),
        until=_from_dt(d["until"]),
        windows=tuple(Window(tuple(w[0]), time.fromisoformat(w[1]), time.fromisoformat(w[2]))
                      for w in d["windows"]))


def to_json(plan: ImportPlan) -> dict[str, Any]:
    """The plan as JSON-able data."""
    return {
        "source": plan.source,
        "users": [[u.external_id, u.email, u.name, u.time_zone] for u in plan.users],
        "teams": [[t.external_id, t.name, list(t.member_ids)] for t in plan.teams],
        "schedules": [{"id": s.external_id, "name": s.name, "time_zone": s.time_zone,
                       "team_id": s.team_id,
                       "rotations": [_rotation(r) for r in s.rotations],
                       "overrides": [[list(o.user_ids), _dt(o.starts_at), _dt(o.ends_at)]
                                     for o in s.overrides]} for s in plan.schedules],
        "chains": [[c.external_id, c.name, [[s.kind, list(s.targets), s.minutes, s.count,
                                             s.important, s.webhook_url] for s in c.steps]]
                   for c in plan.chains],
        "routes": [[r.external_id, r.integration, r.matcher, r.chain_id] for r in plan.routes],
        "unmapped": [[u.kind, u.external_id, u.name, u.reason] for u in plan.unmapped],
    }


def from_json(data: dict[str, Any]) -> ImportPlan:
    """The plan back from `to_json`'s data."""
    return ImportPlan(
        source=data["source"],
        users=[PlanUser(*u) for u in data["users"]],
        teams=[PlanTeam(t[0], t[1], tuple(t[2])) for t in data["teams"]],
        schedules=[PlanSchedule(
            s["id"], s["name"], s["time_zone"], s["team_id"],
            tuple(_from_rotation(r) for r in s["rotations"]),
            tuple(PlanOverride(tuple(o[0]), _from_dt(o[1]), _from_dt(o[2]))
                  for o in s["overrides"])) for s in data["schedules"]],
        chains=[PlanChain(c[0], c[1], tuple(PlanStep(s[0], tuple(s[1]), s[2], s[3], s[4], s[5])
                                            for s in c[2])) for c in data["chains"]],
        routes=[PlanRoute(*r) for r in data["routes"]],
        unmapped=[Unmapped(*u) for u in data["unmapped"]])


def sign(plan: ImportPlan, *, secret: str) -> str:
    """The plan signed for a hidden form field."""
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(to_json(plan))


def unsign(token: str, *, secret: str) -> ImportPlan:
    """The plan of a signed field, or PlanExpired."""
    try:
        data = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=MAX_AGE)
        return from_json(data)
    except (BadSignature, KeyError, TypeError, ValueError, IndexError) as exc:
        raise PlanExpired("The dry run has expired or was altered; run it again.") from exc
