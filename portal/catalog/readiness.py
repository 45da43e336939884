"""Production-readiness scorecards: checks, their evaluation per service, score snapshots."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import events
from portal.catalog import (
    alert_catalogue,
    certificates,
    file_stamps,
    policies,
    runbooks,
    secrets_rotation,
)
from portal.catalog.helm import Chart, ChartError, load_chart
from portal.catalog.models import CatalogRunbook, ScoreSnapshot, Service
from portal.config import PROJECT_ROOT
from portal.integrations import rego

HELM_ROOT = PROJECT_ROOT / "infra" / "helm"
RULES_ROOT = PROJECT_ROOT / "infra" / "prometheus"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    critical: bool
    how_to_fix: str


@dataclass(frozen=True)
class Result:
    check: Check
    status: str  # pass | fail | na
    detail: str


@dataclass
class Context:
    """What the checks of one service look at."""
    service: Service
    runbook_count: int
    alerts: list[dict]
    alert_runbooks: dict[str, str | None]
    runbooks: list = field(default_factory=list)  # the service's own, by title
    chart: Chart | None = None
    chart_error: str | None = None
    facts: dict = field(default_factory=dict)  # from the other domains (events.readiness_facts)
    certificates: certificates.Inventory = field(default_factory=certificates.Inventory)


@dataclass
class Scorecard:
    service: Service
    results: list[Result] = field(default_factory=list)
    runbooks: list = field(default_factory=list)  # the service's own, as the checks saw them
    alerts: list = field(default_factory=list)  # (rule, runbook slug or None, summary)

    @property
    def applicable(self) -> list[Result]:
        return [r for r in self.results if r.status != "na"]

    @property
    def passed(self) -> int:
        return sum(r.status == "pass" for r in self.results)

    @property
    def score(self) -> int:
        return round(100 * self.passed / len(self.applicable)) if self.applicable else 100

    @property
    def failing(self) -> list[Result]:
        return [r for r in self.results if r.status == "fail"]

    @property
    def critical_failing(self) -> list[Result]:
        return [r for r in self.failing if r.check.critical]


def _has(value, fail: str, ok: str) -> tuple[str, str]:
    return ("pass", ok) if value else ("fail", fail)


def _owner(ctx: Context):
    return _has(ctx.service.team, "No owning team.", f"Owned by {ctx.service.team.name}.")


def _oncall(ctx: Context):
    if "oncall" not in ctx.facts:  # no on-call area in this portal: the entry's own word
        return _has(ctx.service.oncall_schedule,
                    "No on-call schedule is named for this entry.",
                    f"On-call: {ctx.service.oncall_schedule}.")
    found = ctx.facts["oncall"]
    if found is None:
        return "fail", ("The owning team has no on-call schedule in the on-call area; pages "
                        "for this entry would go to the default schedule.")
    if not found["people"]:
        return "fail", f"{found['schedule']} has nobody in its primary rotation."
    return "pass", f"{found['schedule']}: {found['people']} in the primary rotation."


def _slo(ctx: Context):
    declared = ctx.service.slo_summary.strip()
    slos = ctx.facts.get("slos")
    if slos:
        return "pass", f"{len(slos)} SLO(s) defined: {', '.join(slos)}."
    if slos is None or ctx.service.kind != "service":
        # No SLO area, or a data store / vendor measured elsewhere: the declaration counts.
        return _has(declared, "No service level objective is declared.",
                    f"Objectives: {declared}.")
    return "fail", ("No SLO is defined for this service in the SLO area"
                    + (f" (the catalog declares: {declared})." if declared else "."))


def _runbooks(ctx: Context):
    missing = sorted(a for a, r in ctx.alert_runbooks.items() if r is None)
    if missing:
        return "fail", "Alerts without a runbook: " + ", ".join(missing) + "."
    if not ctx.runbook_count:
        return "fail", "No runbook belongs to this entry."
    return "pass", (f"{ctx.runbook_count} runbook(s); every one of {len(ctx.alerts)} "
                    "alert(s) resolves to a runbook.")


def _alerts(ctx: Context):
    return _has(ctx.alerts, f"No alerting rule in infra/prometheus/ carries service="
                f"{ctx.service.slug}.", f"{len(ctx.alerts)} alerting rule(s).")


def _dashboards(ctx: Context):
    titles = [d["title"] if "title" in d else d["path"] for d in ctx.service.dashboards]
    return _has(titles, "No Grafana dashboard is linked.", "Dashboards: " + ", ".join(titles) + ".")


def _chart(ctx: Context):
    if ctx.chart_error:
        return "fail", ctx.chart_error
    if ctx.chart is None:
        return "na", "Not deployed from a chart of ours (managed or external)."
    return "pass", (f"infra/helm/{ctx.chart.path.name} renders "
                    f"{len(ctx.chart.objects)} objects.")


def _policy(policy_id: str, ok: str):
    def check(ctx: Context):
        if ctx.chart is None:
            return ("fail", "Cannot be checked: the chart does not render.") if ctx.chart_error \
                else ("na", "No chart to check.")
        try:
            problems = policies.violations(policy_id, ctx.chart.objects,
                                           namespace=str(ctx.chart.values.get("namespace",
                                                                              "default")),
                                           digest=ctx.chart.digest)
        except rego.RegoError as exc:
            return "fail", f"Cannot be checked: the Gatekeeper policy fails to evaluate ({exc})."
        return ("fail", "; ".join(problems) + ".") if problems else ("pass", ok)
    return check


def _certificates(ctx: Context):
    return certificates.readiness(inventory=ctx.certificates, namespace=ctx.service.namespace)


def _dr(ctx: Context):
    s = ctx.service
    if s.kind == "infrastructure" and not (s.rpo or s.rto or s.backup):
        return "na", "Stateless or external infrastructure: nothing of ours to restore."
    missing = [name for name, value in (("RPO", s.rpo), ("RTO", s.rto)) if not value]
    if missing:
        return "fail", f"No {' or '.join(missing)} declared."
    return "pass", f"RPO {s.rpo}; RTO {s.rto}."


def _secrets(ctx: Context):
    return secrets_rotation.readiness(
        service_slug=ctx.service.slug,
        found=secrets_rotation.fleet_of_service(ctx.service.slug))


CHECKS: list[tuple[Check, Callable[[Context], tuple[str, str]]]] = [
    (Check("owner", "Owner team set", True, "Set `spec.owner` in catalog-info.yaml to a "
           "team (group:<team>) and re-import, or ask an admin to assign the team."), _owner),
    (Check("oncall", "On-call schedule set", True, "Create a schedule for the owning team in "
           "the on-call area with people in its primary layer, and name it in the "
           "`meridian.io/oncall-schedule` annotation."), _oncall),
    (Check("slo", "SLO defined", True, "Define the service's objectives (availability and "
           "latency) in the SLO area, or import them as OpenSLO."), _slo),
    (Check("runbooks", "Runbook for each alert", True, "Write a runbook in the catalog and "
           "list the alert names it answers; point the alert's `runbook_url` at it."), _runbooks),
    (Check("alerts", "Alerting rules exist", False, "Add alerting rules with a `service` label "
           "(the SLO area generates burn-rate alerts into infra/prometheus/)."), _alerts),
    (Check("dashboards", "Dashboards linked", False, "Link the Grafana dashboards "
           "(e.g. /d/system-overview) in the catalog entry's links."), _dashboards),
    (Check("chart", "Helm chart renders", True, "Add infra/helm/<service>/ with Chart.yaml, "
           "values.yaml and templates/ (copy a platform service's chart)."), _chart),
    (Check("non-root", "Runs as non-root", True, "Set `podSecurityContext.runAsNonRoot: true` "
           "and a non-zero `runAsUser` in values.yaml."),
     _policy("non_root", "Every container runs as non-root.")),
    (Check("not-privileged", "No privileged containers", True, "Set `securityContext."
           "privileged: false` and drop capabilities."),
     _policy("not_privileged", "No container is privileged.")),
    (Check("limits", "Resource limits", True, "Set `resources.limits.cpu` and `.memory` in "
           "values.yaml (size from load tests)."),
     _policy("resource_limits", "Every container has CPU and memory limits.")),
    (Check("no-latest", "No latest image tag", True, "Pin `image.tag` to a release version or "
           "digest; ArgoCD writes the tag per environment."),
     _policy("no_latest_tag", "Every image is pinned.")),
    (Check("registry", "Approved registry", True, "Push the image to ghcr.io/meridian/<service> "
           "and set `image.repository`."),
     _policy("approved_registry", "Every image comes from ghcr.io/meridian/*.")),
    (Check("network-policy", "NetworkPolicy present", True, "Enable `networkPolicy` and allow "
           "only the callers of the service (default-deny per namespace)."),
     _policy("network_policy", "A NetworkPolicy selects every workload.")),
    (Check("pdb", "PDB when replicas > 1", True, "Add templates/pdb.yaml rendering a "
           "PodDisruptionBudget when replicaCount > 1."),
     _policy("disruption_budget", "Replicated workloads have a PodDisruptionBudget.")),
    (Check("probes", "Liveness, readiness and startup probes", False, "Enable `probes` with "
           "/healthz and /readyz paths."),
     _policy("probes", "Every container has all three probes.")),
    (Check("certificates", "Certificates valid for 14 days", False, "Check cert-manager's "
           "logs, the issuer's status and the DNS challenge of the certificate; see the "
           "catalog's Certificates page."), _certificates),
    (Check("backups-dr", "Backups and DR: RPO/RTO declared", True, "Declare RPO and RTO "
           "(`meridian.io/rpo`, `meridian.io/rto`) and how the data is backed up."), _dr),
    (Check("secrets-rotated", "Secrets rotated within policy", False, "Rotate the overdue "
           "secret in Vault (write a new version) and check the owner and policy in "
           "infra/vault/secret-rotation.yaml."), _secrets),
]
CHECKS_BY_ID = {check.id: check for check, _ in CHECKS}


def alert_rules(rules_root: Path = RULES_ROOT) -> dict[str, list[dict]]:
    """Alerting rules of infra/prometheus/ grouped by their `service` label."""
    # Parsing the generated rule files costs far more than a page; reparse only on change.
    return _parsed_rules(tuple(entry for entry in file_stamps.of_tree(rules_root)
                               if entry[0].endswith((".yml", ".yaml"))))


@functools.lru_cache(maxsize=4)
def _parsed_rules(files: file_stamps.Stamp) -> dict[str, list[dict]]:
    by_service: dict[str, list[dict]] = {}
    for path, _, _ in files:
        try:
            data = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError):
            continue  # rule files are validated by promtool in their own domain's tests
        for group in (data or {}).get("groups", []) if isinstance(data, dict) else []:
            for rule in group.get("rules") or []:
                service = ((rule.get("labels") or {}).get("service")
                           if isinstance(rule, dict) and rule.get("alert") else None)
                if service:
                    by_service.setdefault(str(service), []).append(rule)
    return by_service


def _context(*, session: Session, service: Service, rules: dict[str, list[dict]],
             helm_root: Path, resolved: runbooks.Resolved | None) -> Context:
    alerts = rules.get(service.slug, [])
    names = [a["alert"] for a in alerts]
    own: list[CatalogRunbook] | list[runbooks.RunbookLink]
    found: dict[str, CatalogRunbook | None] | dict[str, runbooks.RunbookLink | None]
    if resolved is not None and resolved.alertnames == tuple(sorted(set(names))):
        own, found = resolved.own, resolved.answers
    else:
        own, found = runbooks.resolve(session=session, service=service, alertnames=names)
    ctx = Context(service=service, alerts=alerts, runbook_count=len(own), runbooks=own,
                  alert_runbooks={name: r.slug if r else None for name, r in found.items()},
                  certificates=certificates.current())
    for _, facts in events.readiness_facts.send(None, session=session, service=service):
        ctx.facts.update(facts or {})
    chart_name = service.helm_chart or (service.slug if service.kind == "service" else None)
    if chart_name:
        try:
            ctx.chart = load_chart(helm_root / chart_name)
        except ChartError as exc:
            ctx.chart_error = f"infra/helm/{chart_name}: {exc}"
    return ctx


def evaluate(*, session: Session, service: Service, helm_root: Path = HELM_ROOT,
             rules: dict[str, list[dict]] | None = None,
             resolved: runbooks.Resolved | None = None) -> Scorecard:
    """Run every check against one service; `resolved`: its runbooks as a page read them
    already (used when read for the same alerts)."""
    rules = alert_rules() if rules is None else rules
    ctx = _context(session=session, service=service, rules=rules, helm_root=helm_root,
                   resolved=resolved)
    card = Scorecard(service=service, runbooks=ctx.runbooks,
                     alerts=[(a, ctx.alert_runbooks.get(a["alert"]), alert_catalogue.readable(
                         (a.get("annotations") or {}).get("summary"))) for a in ctx.alerts])
    for check, run in CHECKS:
        status, detail = run(ctx)
        card.results.append(Result(check, status, detail))
    return card


def snapshot(*, session: Session, card: Scorecard) -> ScoreSnapshot:
    """Store a scorecard's score for the trend."""
    row = ScoreSnapshot(service_id=card.service.id, score=card.score, passed=card.passed,
                        applicable=len(card.applicable),
                        failing=[r.check.id for r in card.failing])
    session.add(row)
    session.flush()
    return row


def trend(*, session: Session, service: Service, limit: int = 60) -> list[ScoreSnapshot]:
    """The service's stored scores, oldest first."""
    rows = session.scalars(select(ScoreSnapshot).where(ScoreSnapshot.service_id == service.id)
                           .order_by(ScoreSnapshot.taken_at.desc(), ScoreSnapshot.id.desc())
                           .limit(limit))
    return list(reversed(list(rows)))
