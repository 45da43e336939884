"""Alertmanager API v2 client: alerts, silences, status.

Timeouts on every call; connection failures and 502/503/504 are retried a bounded number of
times by portal.integrations.http (GETs and DELETE are idempotent, and so is pushing alerts:
Alertmanager merges alerts by their labels; a silence POST is only retried when the
connection was never made, so it cannot be created twice). Results are typed; a down
Alertmanager (or any 5xx) raises `AlertmanagerUnavailable`, a request it refuses raises
`AlertmanagerRejected` with its message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import requests

from portal.integrations.http import IDEMPOTENT, mount, retry_policy, retrying_session, send


class AlertmanagerUnavailable(RuntimeError):
    """Alertmanager did not answer (refused, timed out, or 5xx after retries)."""


class AlertmanagerRejected(ValueError):
    """Alertmanager answered 4xx: the request itself is wrong; the text says why."""


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def operator(self) -> str:
        return {(False, True): "=", (False, False): "!=", (True, True): "=~",
                (True, False): "!~"}[(self.is_regex, self.is_equal)]

    def as_filter(self) -> str:
        """The matcher in Alertmanager's filter syntax, e.g. `job=~"api.*"`."""
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.operator}"{escaped}"'

    def to_api(self) -> dict:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex,
                "isEqual": self.is_equal}


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    labels: dict
    annotations: dict
    starts_at: datetime
    ends_at: datetime | None
    state: str  # active | suppressed | unprocessed
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: str  # active | pending | expired
    updated_at: datetime | None = None


@dataclass(frozen=True)
class NewSilence:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    extra: dict = field(default_factory=dict)


_NANOS = re.compile(r"(\.\d{1,6})\d*")  # Python parses at most microseconds


def parse_time(value: str | None) -> datetime | None:
    """Alertmanager's RFC 3339 timestamps (with Z and up to nanoseconds) as aware datetimes."""
    if not value or value.startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(_NANOS.sub(r"\1", value.replace("Z", "+00:00")))


def iso(moment: datetime) -> str:
    """A datetime as Alertmanager wants it: UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class AlertmanagerApi(Protocol):
    """What callers use of an Alertmanager: one `AlertmanagerClient` or a whole
    `AlertmanagerCluster`, which stand in for each other."""

    base: str  # names the Alertmanager(s), e.g. as a cache key

    def list_alerts(self, matchers: tuple[Matcher, ...] = (), *,
                    include_suppressed: bool = True) -> list[Alert]: ...

    def post_alerts(self, alerts: list[dict]) -> None: ...

    def list_silences(self) -> list[Silence]: ...

    def get_silence(self, silence_id: str) -> Silence: ...

    def create_silence(self, silence: NewSilence) -> str: ...

    def expire_silence(self, silence_id: str) -> None: ...

    def ready(self) -> bool: ...


class AlertmanagerClient:
    """A thin client for one Alertmanager at `base_url`."""

    def __init__(self, base_url: str, *, timeout: float = 3.0, retries: int = 2,
                 backoff: float = 0.2, session: requests.Session | None = None):
        self.base = base_url.rstrip("/") + "/api/v2"
        self.timeout = timeout
        # Every path retries idempotent methods only (so POST /silences is retried just
        # when the connection was never made); POST /alerts is idempotent, so it opts in.
        self.http = retrying_session(retries=retries, backoff=backoff, session=session)
        mount(self.http, self.base + "/alerts",
              retry_policy(retries=retries, backoff=backoff, methods=IDEMPOTENT | {"POST"}))

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = send(self.http, method, self.base + path, timeout=self.timeout,
                        unavailable=AlertmanagerUnavailable,
                        what=f"Alertmanager at {self.base}", **kwargs)
        if response.status_code >= 400:
            raise AlertmanagerRejected(response.text.strip() or response.reason)
        return response

    def list_alerts(self, matchers: tuple[Matcher, ...] = (), *,
                    include_suppressed: bool = True) -> list[Alert]:
        """Current alerts, optionally only those matching `matchers` (Alertmanager's rules)."""
        params = [("filter", m.as_filter()) for m in matchers]
        params += [("silenced", str(include_suppressed).lower()),
                   ("inhibited", str(include_suppressed).lower())]
        return [_alert(a) for a in self._call("GET", "/alerts", params=params).json()]

    def post_alerts(self, alerts: list[dict]) -> None:
        """Push alerts the way Prometheus does (used for tests and synthetic checks)."""
        self._call("POST", "/alerts", json=alerts)

    def list_silences(self) -> list[Silence]:
        """Every silence Alertmanager still knows, newest first."""
        silences = [_silence(s) for s in self._call("GET", "/silences").json()]
        return sorted(silences, key=lambda s: s.starts_at, reverse=True)

    def get_silence(self, silence_id: str) -> Silence:
        """One silence by id."""
        return _silence(self._call("GET", f"/silence/{silence_id}").json())

    def create_silence(self, silence: NewSilence) -> str:
        """Create a silence; returns its id."""
        body = {"matchers": [m.to_api() for m in silence.matchers],
                "startsAt": iso(silence.starts_at), "endsAt": iso(silence.ends_at),
                "createdBy": silence.created_by, "comment": silence.comment, **silence.extra}
        return self._call("POST", "/silences", json=body).json()["silenceID"]

    def expire_silence(self, silence_id: str) -> None:
        """Expire a silence now (Alertmanager keeps it, in state expired)."""
        self._call("DELETE", f"/silence/{silence_id}")

    def ready(self) -> bool:
        """Whether Alertmanager answers its status endpoint."""
        try:
            self._call("GET", "/status")
        except AlertmanagerUnavailable:
            return False
        return True


def _sent_time(value: str | None) -> datetime:
    # Alertmanager always sends these (an alert's startsAt, a silence's bounds).
    return cast(datetime, parse_time(value))


def _alert(raw: dict) -> Alert:
    status = raw.get("status", {})
    return Alert(fingerprint=raw["fingerprint"], labels=raw.get("labels", {}),
                 annotations=raw.get("annotations", {}),
                 starts_at=_sent_time(raw.get("startsAt")), ends_at=parse_time(raw.get("endsAt")),
                 state=status.get("state", "unprocessed"),
                 silenced_by=tuple(status.get("silencedBy") or ()),
                 inhibited_by=tuple(status.get("inhibitedBy") or ()))


def _silence(raw: dict) -> Silence:
    return Silence(
        id=raw["id"],
        matchers=tuple(Matcher(m["name"], m["value"], m.get("isRegex", False),
                               m.get("isEqual", True)) for m in raw.get("matchers", [])),
        starts_at=_sent_time(raw["startsAt"]), ends_at=_sent_time(raw["endsAt"]),
        created_by=raw.get("createdBy", ""), comment=raw.get("comment", ""),
        state=raw.get("status", {}).get("state", ""), updated_at=parse_time(raw.get("updatedAt")))


class Gathered(list):
    """A list read from every member of a cluster; `unreachable` names members that did
    not answer, so a page can say its list may be incomplete."""

    def __init__(self, items=(), unreachable: tuple[str, ...] = ()):
        super().__init__(items)
        self.unreachable = unreachable


class AlertmanagerCluster:
    """The members of one Alertmanager HA cluster behind the interface of one client.

    Writes go to the first member that answers (the cluster gossips them to the others);
    reads ask every member and merge, alerts by fingerprint and silences by id, because a
    member that was down or partitioned may miss what another has. Reads fail only when
    no member answers; otherwise the result is a `Gathered` naming the silent members.
    """

    def __init__(self, base_urls: list[str], **client_options):
        if not base_urls:
            raise ValueError("an Alertmanager cluster needs at least one URL")
        self.members = [AlertmanagerClient(url, **client_options) for url in base_urls]
        self.base = ",".join(m.base for m in self.members)  # the alert cache's key

    def _first(self, call):
        errors = []
        for member in self.members:
            try:
                return call(member)
            except AlertmanagerUnavailable as exc:
                errors.append(str(exc))
        raise AlertmanagerUnavailable("; ".join(errors))

    def _gather(self, call, key, rank=None) -> Gathered:
        merged: dict[Any, Any] = {}
        unreachable: list[str] = []
        errors: list[str] = []
        for member in self.members:
            try:
                items = call(member)
            except AlertmanagerUnavailable as exc:
                unreachable.append(member.base.removesuffix("/api/v2"))
                errors.append(str(exc))
                continue
            for item in items:
                seen = merged.get(key(item))
                if seen is None or (rank is not None and rank(item) > rank(seen)):
                    merged[key(item)] = item
        if len(unreachable) == len(self.members):
            raise AlertmanagerUnavailable("; ".join(errors))
        return Gathered(merged.values(), tuple(unreachable))

    def list_alerts(self, matchers: tuple[Matcher, ...] = (), *,
                    include_suppressed: bool = True) -> Gathered:
        """Current alerts of every reachable member, one per fingerprint."""
        return self._gather(lambda m: m.list_alerts(matchers,
                                                    include_suppressed=include_suppressed),
                            lambda a: a.fingerprint)

    def post_alerts(self, alerts: list[dict]) -> None:
        """Push alerts to the first member that answers."""
        self._first(lambda m: m.post_alerts(alerts))

    def list_silences(self) -> Gathered:
        """Silences of every reachable member, one per id (the most recently updated)."""
        gathered = self._gather(lambda m: m.list_silences(), lambda s: s.id,
                                lambda s: s.updated_at or s.starts_at)
        return Gathered(sorted(gathered, key=lambda s: s.starts_at, reverse=True),
                        gathered.unreachable)

    def get_silence(self, silence_id: str) -> Silence:
        """One silence by id, from the first member that knows it."""
        rejected = None
        for member in self.members:
            try:
                return member.get_silence(silence_id)
            except AlertmanagerUnavailable:
                continue
            except AlertmanagerRejected as exc:  # this member may have lost it; ask on
                rejected = exc
        if rejected is not None:
            raise rejected
        raise AlertmanagerUnavailable("no Alertmanager of the cluster answered")

    def create_silence(self, silence: NewSilence) -> str:
        """Create a silence on the first member that answers; returns its id."""
        return self._first(lambda m: m.create_silence(silence))

    def expire_silence(self, silence_id: str) -> None:
        """Expire a silence on the first member that answers."""
        self._first(lambda m: m.expire_silence(silence_id))

    def ready(self) -> bool:
        """Whether any member answers its status endpoint."""
        return any(m.ready() for m in self.members)


def parse_urls(value: str) -> list[str]:
    """ALERTMANAGER_URL as a list: one URL or several separated by commas."""
    return [url.strip() for url in value.split(",") if url.strip()]
