"""What an importer found in another on-call tool, in the portal's own terms.

Each source (Grafana OnCall's HTTP API or Terraform files, Opsgenie's REST API) is read
into one `ImportPlan`; the dry run shows it, `apply` writes it. Nothing here talks to a
database or the network, so a plan can be built, compared and tested on its own.

Schedules keep the source's layering instead of being flattened into overrides: a
schedule is a stack of `PlanRotation`s (the highest `level` that has someone on call
wins), with `PlanOverride`s on top of all of them. External ids keep a re-run idempotent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cache
from typing import Literal
from zoneinfo import available_timezones

Frequency = Literal["hourly", "daily", "weekly", "monthly"]
StepKind = Literal["wait", "notify_users", "notify_group", "notify_schedule", "repeat",
                   "notify_if_count", "webhook"]


@dataclass(frozen=True)
class PlanUser:
    external_id: str
    email: str
    name: str
    time_zone: str = "UTC"


@dataclass(frozen=True)
class PlanTeam:
    external_id: str
    name: str
    member_ids: tuple[str, ...] = ()  # PlanUser.external_id


@dataclass(frozen=True)
class Window:
    """A part of the week a rotation is active in, in the rotation's time zone.

    `weekdays` uses date.weekday() (0 = Monday). `end` <= `start` means the window runs
    past midnight into the next day."""
    weekdays: tuple[int, ...]
    start: time
    end: time


@dataclass(frozen=True)
class PlanRotation:
    """Recurring shifts: shift n starts at `start` + n × (`interval` × `frequency`), lasts
    `duration` (None: until the next shift starts) and is held by participants[n % len].

    Times recur on the wall clock of `time_zone`, so a 09:00 hand-off stays at 09:00 across
    a daylight-saving change. `windows`, when given, clip every shift to those parts of the
    week. A participant is a tuple of user ids: all of them are on call together."""
    name: str
    level: int  # higher wins where rotations overlap
    time_zone: str
    start: datetime  # aware
    frequency: Frequency
    interval: int
    participants: tuple[tuple[str, ...], ...]
    duration: timedelta | None = None
    until: datetime | None = None
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class PlanOverride:
    user_ids: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class PlanSchedule:
    external_id: str
    name: str
    time_zone: str
    team_id: str | None = None
    rotations: tuple[PlanRotation, ...] = ()
    overrides: tuple[PlanOverride, ...] = ()


@dataclass(frozen=True)
class PlanStep:
    """One escalation step. `targets` are user ids, a team id or a schedule id by kind;
    `minutes` is the wait of a `wait` step or the window of `notify_if_count`; `count`
    is the repeat count of `repeat` or the alert count of `notify_if_count`."""
    kind: StepKind
    targets: tuple[str, ...] = ()
    minutes: int = 0
    count: int = 0
    important: bool = False
    webhook_url: str | None = None


@dataclass(frozen=True)
class PlanChain:
    external_id: str
    name: str
    steps: tuple[PlanStep, ...] = ()


@dataclass(frozen=True)
class PlanRoute:
    """Alerts of an integration that match `matcher` go to the chain; an empty matcher is
    the integration's default route."""
    external_id: str
    integration: str
    matcher: str
    chain_id: str | None


@dataclass(frozen=True)
class Unmapped:
    """Something in the source the portal cannot express, and why; shown in the dry run."""
    kind: str
    external_id: str
    name: str
    reason: str


@dataclass
class ImportPlan:
    source: Literal["grafana-oncall", "opsgenie"]
    users: list[PlanUser] = field(default_factory=list)
    teams: list[PlanTeam] = field(default_factory=list)
    schedules: list[PlanSchedule] = field(default_factory=list)
    chains: list[PlanChain] = field(default_factory=list)
    routes: list[PlanRoute] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zone(name: object) -> bool:
    """Whether `name` is a time zone this machine knows. The names are read once:
    `available_timezones()` walks the zone files at each call (about 10 ms), and a large
    account's plan asks once per shift."""
    return isinstance(name, str) and name in _zones()
