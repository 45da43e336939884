"""Links into Grafana: dashboards with a service and a time range, logs and traces in Explore.

Every builder is a pure function of data the page already holds (no query, no request to
Grafana) and returns None when GRAFANA_URL is unset, so a page shows no link rather than a
broken one; log links also need LOKI_URL and trace links TEMPO_URL (the addresses Grafana's
provisioned Loki and Tempo datasources use: without them those datasources do not exist).
Explore links use Grafana's `panes` URL format: `/explore?schemaVersion=1&
panes=<url-encoded JSON>&orgId=<org>`, one pane with its datasource uid, queries and range.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

# Kubernetes namespace and app names (RFC 1123 labels); anything else ("RDS (private
# subnet)", a hostile label value) is not a Loki stream selector and gets no link.
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DASHBOARD_PATH = re.compile(r"/d/(?P<uid>[A-Za-z0-9_-]{1,40})(/[a-z0-9-]*)?/?")
_TRACE_ID = re.compile(r"\b[0-9a-f]{32}\b")
ERROR_LEVELS = ("ERROR", "CRITICAL")  # Python level names, as the services' JSON logs carry them
INCIDENT_LEAD = timedelta(hours=1)
ALERT_MARGIN = timedelta(minutes=30)
ENTRY_MARGIN = timedelta(minutes=15)


@dataclass(frozen=True)
class GrafanaConfig:
    """Where Grafana is, the uids of its Loki and Tempo datasources, and whether those
    datasources exist (LOKI_URL, TEMPO_URL set)."""
    url: str | None
    org_id: int = 1
    loki_uid: str = "loki"
    tempo_uid: str = "tempo"
    logs: bool = False
    traces: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping) -> GrafanaConfig:
        """The Grafana part of the portal's settings."""
        url = settings.get("GRAFANA_URL")
        return cls(url=url.rstrip("/") if url else None,
                   org_id=settings.get("GRAFANA_ORG_ID", 1),
                   loki_uid=settings.get("GRAFANA_LOKI_UID", "loki"),
                   tempo_uid=settings.get("GRAFANA_TEMPO_UID", "tempo"),
                   logs=bool(settings.get("LOKI_URL")), traces=bool(settings.get("TEMPO_URL")))


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, the unit of Grafana's `from`/`to`."""
    return int(moment.timestamp() * 1000)


def dashboard_slug(title: str) -> str:
    """The slug Grafana puts after the uid (`System Overview` -> `system-overview`)."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def dashboard_url(config: GrafanaConfig, path: str, title: str, *, service: str | None = None,
                  start: datetime | None = None, end: datetime | None = None) -> str | None:
    """`/d/<uid>/<slug>?var-service=..&from=<ms>&to=<ms>` of a catalog dashboard path."""
    match = _DASHBOARD_PATH.fullmatch(path or "")
    if not config.url or not match:
        return None
    uid = match["uid"]
    params: list[tuple[str, str]] = [("orgId", str(config.org_id))]
    if service:
        params.append(("var-service", service))
    if start is not None and end is not None:
        params += [("from", str(epoch_ms(start))), ("to", str(epoch_ms(end)))]
    return f"{config.url}/d/{uid}/{dashboard_slug(title)}?{urlencode(params)}"


def logql_string(value: str) -> str:
    """A LogQL double-quoted string literal (Go escaping) holding `value`."""
    return json.dumps(value, ensure_ascii=False)


def _matcher(label: str, values: Iterable[str]) -> str | None:
    names = sorted({v for v in values if v and _K8S_NAME.match(v)})
    if not names:
        return None
    if len(names) == 1:
        return f"{label}={logql_string(names[0])}"
    return f"{label}=~{logql_string('|'.join(names))}"


def logql(*, namespaces: Iterable[str] = (), apps: Iterable[str] = (),
          levels: Iterable[str] = (), contains: str | None = None) -> str | None:
    """`{namespace="…", app="…"[, level=~"…"]} [|= "…"]`; None without a namespace or app."""
    matchers = [m for m in (_matcher("namespace", namespaces), _matcher("app", apps)) if m]
    if not matchers:
        return None
    levels = tuple(levels)
    if levels:
        matchers.append(f"level=~{logql_string('|'.join(levels))}")
    query = "{" + ", ".join(matchers) + "}"
    if contains:
        query += f" |= {logql_string(contains)}"
    return query


def _explore(config: GrafanaConfig, query: dict, start: datetime, end: datetime) -> str:
    pane = {"datasource": query["datasource"]["uid"], "queries": [query],
            "range": {"from": str(epoch_ms(start)), "to": str(epoch_ms(end))}}
    panes = json.dumps({"portal": pane}, separators=(",", ":"))
    return (f"{config.url}/explore?schemaVersion=1&panes={quote(panes, safe='')}"
            f"&orgId={config.org_id}")


def explore_logs(config: GrafanaConfig, expr: str | None, start: datetime,
                 end: datetime) -> str | None:
    """Explore on the Loki datasource with `expr` over [start, end]."""
    if not config.url or not config.logs or not expr:
        return None
    query = {"refId": "A", "datasource": {"type": "loki", "uid": config.loki_uid},
             "expr": expr, "queryType": "range", "editorMode": "code"}
    return _explore(config, query, start, end)


def explore_trace(config: GrafanaConfig, trace_id: str, start: datetime,
                  end: datetime) -> str | None:
    """Explore on the Tempo datasource showing one trace (32 hex digits)."""
    if not config.url or not config.traces or not _TRACE_ID.fullmatch(trace_id or ""):
        return None
    query = {"refId": "A", "datasource": {"type": "tempo", "uid": config.tempo_uid},
             "queryType": "traceql", "query": trace_id}
    return _explore(config, query, start, end)


def trace_ids(*texts: str | None) -> list[str]:
    """W3C trace ids (32 lowercase hex digits) mentioned in `texts`, first seen first."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in _TRACE_ID.findall(text or ""):
            seen.setdefault(match)
    return list(seen)


def incident_window(opened_at: datetime, resolved_at: datetime | None,
                    now: datetime) -> tuple[datetime, datetime]:
    """From an hour before the incident opened to its resolution (or now)."""
    return opened_at - INCIDENT_LEAD, resolved_at or now


def around(moment: datetime, margin: timedelta) -> tuple[datetime, datetime]:
    """`margin` either side of `moment` (an alert's start, a timeline entry)."""
    return moment - margin, moment + margin


# Dashboards an alert opens, by alert name prefix (the uids and titles of the generated
# dashboards; a test keeps them in step with portal/catalog/grafana_dashboards.py).
ALERT_DASHBOARDS = (("ErrorBudgetBurn", "/d/slo-burn-rate", "SLO Burn Rate"),
                    ("DeadLetter", "/d/order-pipeline", "Order Pipeline"))
DEFAULT_DASHBOARD = ("/d/system-overview", "System Overview")
SERVICE_WINDOW = timedelta(hours=6)


@dataclass(frozen=True)
class Link:
    """A labelled URL into Grafana."""
    label: str
    url: str


def in_kubernetes(service) -> bool:
    """Whether a catalog entry runs in a Kubernetes namespace (so Loki has its logs)."""
    return bool(_K8S_NAME.match(service.namespace or ""))


def _services_logql(services, levels: tuple[str, ...] = ()) -> str | None:
    running = [s for s in services if in_kubernetes(s)]
    return logql(namespaces=[s.namespace for s in running], apps=[s.slug for s in running],
                 levels=levels)


def _links(*pairs: tuple[str, str | None]) -> list[Link]:
    return [Link(label, url) for label, url in pairs if url]


class PageLinks:
    """The `grafana` template global: Grafana links for the objects a page shows.

    Reads only attributes already loaded with the object (slug, namespace, dashboards,
    services of an incident), so a list of rows costs no query per row.
    """

    def __init__(self, config: GrafanaConfig, now: datetime,
                 portal_log_selector: tuple[str, str]):
        self.config, self.now = config, now
        self.portal_namespace, self.portal_app = portal_log_selector

    @property
    def enabled(self) -> bool:
        """Whether Grafana is configured at all."""
        return bool(self.config.url)

    def dashboard(self, path: str, title: str, service: str | None = None,
                  start: datetime | None = None, end: datetime | None = None) -> str | None:
        """One catalog dashboard (`{"path", "title"}` entry) for a service and range."""
        return dashboard_url(self.config, path, title, service=service, start=start, end=end)

    def service_dashboards(self, service, start: datetime | None = None,
                           end: datetime | None = None) -> list[Link]:
        """The service's own dashboards with var-service, over [start, end] (default 6 h)."""
        end = end or self.now
        start = start or end - SERVICE_WINDOW
        return _links(*((d.get("title") or d.get("path", ""),
                         self.dashboard(d.get("path", ""), d.get("title", ""), service.slug,
                                        start, end))
                        for d in service.dashboards or []))

    def service_logs(self, service, start: datetime | None = None,
                     end: datetime | None = None) -> list[Link]:
        """All logs and error logs of one service in Explore."""
        end = end or self.now
        start = start or end - SERVICE_WINDOW
        if not in_kubernetes(service):
            return []
        stream: dict[str, Any] = {"namespaces": [service.namespace], "apps": [service.slug]}
        return _links(
            ("Logs", explore_logs(self.config, logql(**stream), start, end)),
            ("Error logs", explore_logs(self.config, logql(**stream, levels=ERROR_LEVELS),
                                        start, end)))

    def incident(self, incident) -> list[Link]:
        """Error logs of every affected service over the incident window."""
        start, end = incident_window(incident.opened_at, incident.resolved_at, self.now)
        expr = _services_logql(incident.services, levels=ERROR_LEVELS)
        return _links(("Error logs of the affected services",
                       explore_logs(self.config, expr, start, end)))

    def incident_service(self, incident, service) -> list[Link]:
        """A service's dashboards over the incident window (an hour before it to its end)."""
        start, end = incident_window(incident.opened_at, incident.resolved_at, self.now)
        return self.service_dashboards(service, start, end)

    def entry(self, entry, incident=None) -> list[Link]:
        """Traces an entry mentions, and the affected services' logs around it."""
        start, end = around(entry.at, ENTRY_MARGIN)
        details = entry.details or {}
        ids = trace_ids(entry.summary, entry.body_md, str(details.get("trace_id") or ""))
        links = _links(*((f"trace {t[:8]}…", explore_trace(self.config, t, start, end))
                         for t in ids))
        if incident is not None:
            expr = _services_logql(incident.services)
            links += _links(("logs", explore_logs(self.config, expr, start, end)))
        return links

    def alert(self, name: str, service: str | None, labels: Mapping | None,
              starts_at: datetime | None, summary: str | None = "") -> list[Link]:
        """The alert's dashboard, its service's error logs and any trace it carries."""
        if starts_at is None:
            return []
        start, end = around(starts_at, ALERT_MARGIN)
        path, title = next(((p, t) for prefix, p, t in ALERT_DASHBOARDS
                            if (name or "").startswith(prefix)), DEFAULT_DASHBOARD)
        labels = labels or {}
        service = service or labels.get("service")
        expr = logql(namespaces=[labels.get("namespace", "")],
                     apps=[labels.get("app") or service or ""], levels=ERROR_LEVELS)
        ids = trace_ids(labels.get("trace_id"), summary)
        return _links((title, self.dashboard(path, title, service, start, end)),
                      ("error logs", explore_logs(self.config, expr, start, end)),
                      *((f"trace {t[:8]}…", explore_trace(self.config, t, start, end))
                        for t in ids))

    def job(self, job) -> list[Link]:
        """The worker's log lines naming the job id, and the deployed service's logs."""
        start = (job.started_at or job.created_at) - timedelta(minutes=5)
        end = (job.finished_at + timedelta(minutes=5)) if job.finished_at else self.now
        expr = logql(namespaces=[self.portal_namespace], apps=[self.portal_app],
                     contains=str(job.id))
        links = _links(("Worker logs of this job", explore_logs(self.config, expr, start, end)))
        if job.service is not None:
            links += _links((f"{job.service.name} logs", explore_logs(
                self.config, _services_logql([job.service]), start, end)))
        return links


def page_links(settings: Mapping, now: datetime) -> PageLinks:
    """The template helper for one render, from the app's settings."""
    return PageLinks(GrafanaConfig.from_settings(settings), now,
                     (settings.get("GRAFANA_PORTAL_NAMESPACE", "platform-portal"),
                      settings.get("GRAFANA_PORTAL_APP", "portal")))
