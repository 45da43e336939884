"""Alerts: the Alertmanager webhook (validated, deduplicated by fingerprint) and the live
board pulled from Alertmanager API v2, with a last-known state when it is down."""
from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from portal import events
from portal.catalog.models import Service
from portal.db import utcnow
from portal.integrations.alertmanager import (
    Alert,
    AlertmanagerApi,
    AlertmanagerRejected,
    AlertmanagerUnavailable,
)
from portal.oncall import webhook_board
from portal.oncall.models import ReceivedAlert

SEVERITY_ORDER = {"critical": 0, "page": 0, "warning": 1, "info": 2}
GROUP_ROWS = 5  # rows shown per service/severity group until someone asks for all of them


class PayloadInvalid(ValueError):
    """The webhook body is not a valid Alertmanager notification."""


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = {}
    startsAt: datetime
    endsAt: datetime | None = None
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-zA-Z]+$")


class WebhookPayload(BaseModel):
    """Alertmanager's webhook body, version 4."""
    model_config = ConfigDict(extra="ignore")
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: str = Field(max_length=200)
    groupKey: str = Field(max_length=2000)
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=5000)


@dataclass(frozen=True)
class IngestResult:
    received: int
    changed: list[str]  # fingerprints that are new or changed status


def parse_webhook(body: bytes) -> WebhookPayload:
    """Validate a webhook body; raises PayloadInvalid with a short description."""
    try:
        return WebhookPayload.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PayloadInvalid(f"{exc.error_count()} error(s); first at {where or 'body'}: "
                             f"{first['msg']}") from exc


def _ends(alert: WebhookAlert) -> datetime | None:
    return None if alert.endsAt is None or alert.endsAt.year < 2 else alert.endsAt


_COLUMNS = ("fingerprint", "status", "labels", "annotations", "starts_at", "ends_at",
            "severity", "last_received_at")
_TYPES = {"labels": "jsonb", "annotations": "jsonb", "starts_at": "timestamptz",
          "ends_at": "timestamptz", "last_received_at": "timestamptz"}
_TABLE = ReceivedAlert.__tablename__
# One statement per delivery with the batch as ONE jsonb parameter, so the SQL text is the
# same for every batch size (parsed once, not per alert or per size). A service label the
# catalog does not know is stored as NULL by the outer join. `previous` locks the batch's
# existing rows in fingerprint order (two deliveries sharing fingerprints cannot deadlock)
# and reads their severity; the always-true WHERE makes PostgreSQL do that BEFORE the
# upsert changes them (a racing delivery waits, then sees its commit). The previous status
# is kept on the row by the upsert itself.
_UPSERT = text(f"""
WITH batch AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r({", ".join(f"{c} {_TYPES.get(c, 'text')}" for c in (*_COLUMNS, "service"))})),
previous AS MATERIALIZED (
    SELECT fingerprint, severity FROM {_TABLE}
    WHERE fingerprint IN (SELECT fingerprint FROM batch) ORDER BY fingerprint FOR UPDATE),
written AS (
    INSERT INTO {_TABLE} ({", ".join(_COLUMNS)}, service, received_count)
    SELECT {", ".join("b." + c for c in _COLUMNS)}, s.slug, 1
    FROM batch b LEFT JOIN {Service.__tablename__} s ON s.slug = b.service
    WHERE (SELECT count(*) FROM previous) >= 0
    ORDER BY b.fingerprint
    ON CONFLICT (fingerprint) DO UPDATE
    SET previous_status = {_TABLE}.status,
        {", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS[1:], "service"))},
        received_count = {_TABLE}.received_count + 1
    RETURNING fingerprint, status, previous_status, received_count, service, incident_id,
              severity)
SELECT w.fingerprint, w.status, w.previous_status, w.received_count, w.service,
       w.incident_id, p.fingerprint IS NOT NULL AND p.severity IS DISTINCT FROM w.severity
FROM written w LEFT JOIN previous p ON p.fingerprint = w.fingerprint
ORDER BY w.fingerprint
""")


def _iso(value: datetime) -> str:
    return value.isoformat()


def _row(alert: WebhookAlert) -> dict:
    return {"fingerprint": alert.fingerprint, "status": alert.status, "labels": alert.labels,
            "annotations": alert.annotations, "starts_at": alert.startsAt,
            "ends_at": _ends(alert), "severity": alert.labels.get("severity"),
            "service": alert.labels.get("service")}


def ingest(*, session: Session, payload: WebhookPayload,
           now: datetime | None = None) -> IngestResult:
    """Upsert the alerts by fingerprint and announce the new or changed ones."""
    latest = {a.fingerprint: a for a in payload.alerts}  # the last copy in a batch wins
    return record(session=session, alerts=[_row(a) for a in latest.values()], now=now)


def record(*, session: Session, alerts: list[dict],
           now: datetime | None = None) -> IngestResult:
    """Store alerts (dicts shaped as `events.alert_received` describes them, without the
    incident link) in the one alert table, by fingerprint, and announce the new or changed
    ones with their previous status and the incident they are linked to."""
    now = now or utcnow()
    rows = {a["fingerprint"]: {**_stored(a), "last_received_at": now} for a in alerts}
    if not rows:
        return IngestResult(0, [])
    written = session.execute(_UPSERT, {"rows": json.dumps(list(rows.values()), default=_iso)})
    # The previous status and severity are the old values, read inside the row lock, so
    # dedupe is decided by the database even when two deliveries race; the link returned is
    # the one committed last, read under the same lock. A new severity is a change too: it
    # may make the alert open an incident.
    changed = {fp: (service, previous if count > 1 else None, incident_id)
               for fp, status, previous, count, service, incident_id, regraded in written
               if count == 1 or previous != status or regraded}
    for fingerprint in rows:
        stale = session.identity_map.get(identity_key(ReceivedAlert, fingerprint))
        if stale is not None:
            session.expire(stale)  # an ORM copy loaded earlier in this transaction
    if changed:
        events.alert_received.send(session=session, alerts=[
            {**{k: v for k, v in rows[fp].items() if k != "last_received_at"},
             "service": service, "previous_status": previous, "incident_id": incident_id}
            for fp, (service, previous, incident_id) in sorted(changed.items())])
    return IngestResult(len(rows), sorted(changed))


def _stored(alert: dict) -> dict:
    severity = alert.get("severity") or (alert.get("labels") or {}).get("severity")
    return {"fingerprint": alert["fingerprint"], "status": alert["status"],
            "labels": dict(alert.get("labels") or {}),
            "annotations": dict(alert.get("annotations") or {}),
            "starts_at": alert["starts_at"], "ends_at": alert.get("ends_at"),
            "severity": str(severity)[:20] if severity else None,
            "service": alert.get("service")}


def received_alerts(*, session: Session, status: str = "firing",
                    limit: int = 1000) -> list[ReceivedAlert]:
    """Alerts last reported by webhook in `status`, newest first."""
    return list(session.scalars(select(ReceivedAlert).where(ReceivedAlert.status == status)
                                .order_by(ReceivedAlert.starts_at.desc()).limit(limit)))


def count_received(*, session: Session) -> int:
    """How many distinct alerts the webhook has seen."""
    return session.execute(select(func.count()).select_from(ReceivedAlert)).scalar_one()


@dataclass(frozen=True)
class AlertView:
    fingerprint: str
    name: str
    service: str
    severity: str
    state: str  # firing | silenced | inhibited
    summary: str
    starts_at: datetime | None
    labels: dict
    silenced_by: tuple[str, ...] = ()


@dataclass
class AlertBoard:
    groups: list[tuple[str, str, list[AlertView]]]
    source: str  # alertmanager | last-known | webhook | none
    fetched_at: datetime | None
    error: str | None = None
    total: int = 0
    states: dict = field(default_factory=dict)
    group_rows: int = GROUP_ROWS
    sizes: dict = field(default_factory=dict)  # (service, severity) -> alerts in the group

    def size_of(self, service: str, severity: str, items: list) -> int:
        """How many alerts a group holds (more than its loaded rows when summarised)."""
        return self.sizes.get((service, severity), len(items))

    @property
    def degraded(self) -> bool:
        return self.error is not None


@dataclass
class _Pulled:
    checked_at: datetime
    board: AlertBoard
    known: tuple[datetime, list[AlertView]] | None  # the last successful pull
    stale: bool = False


class AlertCache:
    """The board pulled from each Alertmanager, shared by every viewer of one app.

    A board is reused for `max_age` seconds, so N people polling the on-call page cost one
    Alertmanager call (and one decode of its list) per interval, not N. It holds no user data:
    times are converted to the viewer's zone when rendering. When Alertmanager is down, the
    last successful pull is kept as the "last known state" whatever `max_age` is.
    """

    def __init__(self, max_age: float = 0.0):
        self.max_age = max_age
        self._pulled: dict[str, _Pulled] = {}
        self._lock = threading.Lock()

    def fresh(self, base: str, now: datetime) -> AlertBoard | None:
        """The board pulled from `base` less than `max_age` seconds before `now`, if any."""
        with self._lock:
            pulled = self._pulled.get(base)
        if pulled is None or pulled.stale or not (
                0 <= (now - pulled.checked_at).total_seconds() < self.max_age):
            return None
        return pulled.board

    def last_known(self, base: str) -> tuple[datetime, list[AlertView]] | None:
        with self._lock:
            pulled = self._pulled.get(base)
        return pulled.known if pulled else None

    def store(self, base: str, now: datetime, board_: AlertBoard,
              views: list[AlertView] | None = None) -> AlertBoard:
        with self._lock:
            old = self._pulled.get(base)
            known = (now, views) if views is not None else old.known if old else None
            self._pulled[base] = _Pulled(now, board_, known)
        return board_

    def clear(self) -> None:
        """Forget fresh boards (after a silence change) but keep the last known state."""
        with self._lock:
            for pulled in self._pulled.values():
                pulled.stale = True


_process_cache = AlertCache()  # callers without an app cache: last known state only


def view_of(alert: Alert) -> AlertView:
    """A live Alertmanager alert as the board shows it."""
    state = "inhibited" if alert.inhibited_by else "silenced" if alert.silenced_by else "firing"
    return AlertView(alert.fingerprint, alert.name, _service_of(alert.labels),
                     alert.labels.get("severity", "none"), state,
                     alert.annotations.get("summary", ""), alert.starts_at, alert.labels,
                     alert.silenced_by)


def _service_of(labels: dict) -> str:
    return labels.get("service") or labels.get("job") or "unknown"


def _received_view(row: ReceivedAlert) -> AlertView:
    return AlertView(row.fingerprint, row.labels.get("alertname", ""), _service_of(row.labels),
                     row.severity or "none", "firing", row.annotations.get("summary", ""),
                     row.starts_at, row.labels)


def group(views: list[AlertView]) -> list[tuple[str, str, list[AlertView]]]:
    """Alerts grouped by service, then severity (most severe first), firing ones first."""
    buckets: dict[tuple[str, str], list[AlertView]] = defaultdict(list)
    for v in views:
        buckets[(v.service, v.severity)].append(v)
    keys = sorted(buckets, key=lambda k: (k[0], SEVERITY_ORDER.get(k[1], 9), k[1]))
    # Firing before silenced/inhibited: a capped group shows what needs someone first.
    return [(svc, sev, sorted(buckets[(svc, sev)], key=lambda v: (v.state != "firing", v.name)))
            for svc, sev in keys]


def board(*, session: Session, client: AlertmanagerApi | None,
          now: datetime | None = None, cache: AlertCache | None = None,
          expanded: Sequence[str] = ()) -> AlertBoard:
    """Active alerts from Alertmanager; when it is down, the last known state and why.
    Without Alertmanager, the webhook's alerts summarised by the database (`expanded`:
    the "service/severity" groups to show in full)."""
    now = now or utcnow()
    if client is None:
        return received_board(session=session, expanded=expanded)
    cache = cache or _process_cache
    hit = cache.fresh(client.base, now)
    if hit is not None:
        return hit
    try:
        views = [view_of(a) for a in client.list_alerts()]
    except (AlertmanagerUnavailable, AlertmanagerRejected) as exc:
        # Cached too: while Alertmanager is down, viewers do not each wait for its timeout.
        known = cache.last_known(client.base)
        if known is not None:
            return cache.store(client.base, now, _board(known[1], "last-known", known[0],
                                                         str(exc)))
        views = [_received_view(r) for r in received_alerts(session=session)]
        return cache.store(client.base, now, _board(views, "webhook", None, str(exc)))
    return cache.store(client.base, now, _board(views, "alertmanager", now, None), views)


def received_board(*, session: Session, expanded: Sequence[str] = ()) -> AlertBoard:
    """The board of the alerts received by webhook: group sizes and the rows shown."""
    rows, sizes = webhook_board.summarised(session=session, rows_per_group=GROUP_ROWS,
                                           expanded=expanded)
    views = [AlertView(fp, name, service, severity, "firing", annotations.get("summary", ""),
                       starts_at, labels)
             for fp, labels, annotations, starts_at, severity, service, name in rows]
    found = _board(views, "webhook", None, None)
    found.sizes, found.total = sizes, sum(sizes.values())
    found.states = {"firing": found.total} if found.total else {}
    return found


def _board(views, source, fetched_at, error) -> AlertBoard:
    states: dict[str, int] = defaultdict(int)
    for v in views:
        states[v.state] += 1
    return AlertBoard(group(views), source, fetched_at, error, len(views), dict(states))
