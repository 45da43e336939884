"""The alert catalogue: the symptom and infrastructure alert rules kept as code in
infra/prometheus/, and the runbook of the catalog each alert name links to."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from portal.catalog.models import CatalogRunbook, Service
from portal.config import PROJECT_ROOT

RULES_ROOT = PROJECT_ROOT / "infra" / "prometheus"
# The catalogue's rule files, one per concern; each has a `<name>_test.yml` for promtool.
RULE_FILES = ("services_rules.yml", "kubernetes_rules.yml", "databases_rules.yml",
              "messaging_rules.yml", "certificates_rules.yml", "platform_rules.yml")
RUNBOOK_PATH = "/catalog/runbooks/"
# Where Prometheus rules point `runbook_url`: the portal's own runbook pages, so a rule's
# link opens the runbook the catalog keeps (and a test checks that it exists).
RUNBOOK_BASE_URL = f"https://portal.meridian.example{RUNBOOK_PATH}"
_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_LABEL = re.compile(r"^\$labels\.(\w+)")


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule of the catalogue, as Prometheus loads it."""
    name: str
    file: str
    group: str
    expr: str
    severity: str | None
    service: str | None
    summary: str | None
    description: str | None
    runbook_url: str | None

    @property
    def runbook_slug(self) -> str | None:
        """The catalog runbook its runbook_url points at, when it points at one."""
        return runbook_slug(self.runbook_url)


def runbook_slug(url: str | None) -> str | None:
    """The slug of a catalog runbook URL (…/catalog/runbooks/<slug>), else None."""
    path = urlsplit(url or "").path
    if not path.startswith(RUNBOOK_PATH):
        return None
    slug = path[len(RUNBOOK_PATH):]
    return slug if slug and "/" not in slug else None


def readable(text: str | None) -> str:
    """An annotation for people reading the rule, not an alert: each template part shown by
    the label it reads ("{{ $labels.pod }} uses…" becomes "<pod> uses…", values "…")."""
    def label_name(match: re.Match) -> str:
        label = _LABEL.match(match.group(1))
        return f"<{label.group(1)}>" if label else "…"
    return _TEMPLATE.sub(label_name, text or "")


def rule_file_names(root: Path = RULES_ROOT) -> tuple[str, ...]:
    """Every rule file of `root`, the catalogue's and the others (generated SLO rules, dead
    letters, security): each `*.yml` holding rule `groups`. promtool's `*_test.yml` files
    and prometheus.yml hold none."""
    return tuple(sorted(p.name for p in root.glob("*.yml")
                        if "groups" in (yaml.safe_load(p.read_text()) or {})))


def load(root: Path = RULES_ROOT, names: tuple[str, ...] = RULE_FILES) -> list[AlertRule]:
    """Every alerting rule of the catalogue's files (or of `names`), in file and group
    order."""
    found = []
    for name in names:
        for group in (yaml.safe_load((root / name).read_text()) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                if "alert" not in rule:
                    continue
                labels, notes = rule.get("labels") or {}, rule.get("annotations") or {}
                found.append(AlertRule(
                    name=rule["alert"], file=name, group=group["name"], expr=rule["expr"],
                    severity=labels.get("severity"), service=labels.get("service"),
                    summary=notes.get("summary"), description=notes.get("description"),
                    runbook_url=notes.get("runbook_url")))
    return found


def runbook_links(*, session: Session,
                  alerts: Iterable[tuple[str | None, str]]) -> dict[tuple[str | None, str], str]:
    """The runbook slug answering each (service, alert name), preferring the service's own
    runbook, from one statement however many alerts there are; unanswered ones are left out."""
    wanted = {(service, name) for service, name in alerts if name}
    names = sorted({name for _, name in wanted})
    if not names:
        return {}
    rows = session.execute(
        select(CatalogRunbook.slug, CatalogRunbook.alertnames, Service.slug)
        .outerjoin(Service, Service.id == CatalogRunbook.service_id)
        .where(CatalogRunbook.alertnames.has_any(array(names)))
        .order_by(CatalogRunbook.id)).all()
    links = {}
    for service, name in wanted:
        answering = [(slug, owner) for slug, alertnames, owner in rows if name in alertnames]
        own = [slug for slug, owner in answering if service and owner == service]
        if own or answering:
            links[(service, name)] = (own or [answering[0][0]])[0]
    return links
