"""Disaster-recovery scenarios: what fails, which catalog entries it takes down, how it is
noticed, and the recovery point and time objectives (RPO: how much recent data may be lost;
RTO: how long until service is back), each with the runbook that carries it out.

The scenarios are reviewed platform design, kept as data in portal/catalog/data/
dr_scenarios.yaml (versioned with the code like the alert rules, read with the bounded safe
YAML loader and checked field by field); the runbooks they link to are catalog runbooks
(seeded by `seed_runbooks`, editable in the catalog). A page reads every entry and runbook
it names in one query.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from portal.catalog import runbooks
from portal.catalog.models import CatalogRunbook, Service
from portal.untrusted_yaml import UntrustedYamlError, load_all

SCENARIOS_FILE = Path(__file__).parent / "data" / "dr_scenarios.yaml"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TEXTS = ("title", "detection", "rpo", "rto")


class ScenarioFileError(ValueError):
    """The scenarios file is not what the DR page needs; the message names what and where."""


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    affected: tuple[str, ...]  # catalog entry slugs
    detection: str
    rpo: str
    rto: str
    recovery: tuple[str, ...]  # the runbook's steps

    @property
    def runbook_slug(self) -> str:
        return f"dr-{self.slug}"


def _scenario(raw: object, index: int) -> Scenario:
    where = f"scenario {index + 1}"
    if not isinstance(raw, dict):
        raise ScenarioFileError(f"{where} is not a mapping")
    slug = raw.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise ScenarioFileError(f"{where}: slug must be lowercase words joined by '-'")
    where = f"scenario {slug}"
    unknown = set(raw) - {"slug", "affected", "recovery", *_TEXTS}
    if unknown:
        raise ScenarioFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for name in _TEXTS:
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise ScenarioFileError(f"{where}: {name} must be a non-empty text")
    lists = {}
    for name, pattern in (("affected", _SLUG), ("recovery", None)):
        items = raw.get(name)
        if not isinstance(items, list) or not items or not all(
                isinstance(i, str) and i.strip() and (pattern is None or pattern.match(i))
                for i in items):
            raise ScenarioFileError(f"{where}: {name} must be a non-empty list of "
                                    + ("catalog entry slugs" if pattern else "texts"))
        lists[name] = tuple(items)
    return Scenario(slug=slug, affected=lists["affected"], recovery=lists["recovery"],
                    **{name: raw[name].strip() for name in _TEXTS})


def load(path: Path = SCENARIOS_FILE) -> tuple[Scenario, ...]:
    """The scenarios of the file, in its order; ScenarioFileError says what is wrong."""
    try:
        documents = load_all(path.read_text())
    except (OSError, UntrustedYamlError) as exc:
        raise ScenarioFileError(f"{path.name}: {exc}") from exc
    if len(documents) != 1 or not isinstance(documents[0], dict) or \
            not isinstance(documents[0].get("scenarios"), list):
        raise ScenarioFileError(f"{path.name}: one document with a `scenarios` list expected")
    found = tuple(_scenario(raw, i) for i, raw in enumerate(documents[0]["scenarios"]))
    slugs = [s.slug for s in found]
    if len(set(slugs)) != len(slugs):
        raise ScenarioFileError(f"{path.name}: a scenario slug is used twice")
    return found


# Read once at import: the file ships with the code, and a broken one should stop the
# portal from starting (and the tests) rather than blank the DR page in production.
SCENARIOS = load()
BY_SLUG = {s.slug: s for s in SCENARIOS}


def for_service(slug: str) -> list[Scenario]:
    """The scenarios that take this catalog entry down (no query: the table is data)."""
    return [s for s in SCENARIOS if slug in s.affected]


@dataclass(frozen=True)
class Table:
    scenarios: tuple[Scenario, ...]
    names: dict[str, str]  # entry slug -> name, for the entries in the catalog
    runbooks: dict[str, str]  # runbook slug -> title, for the runbooks that exist


def table(*, session: Session, scenarios: tuple[Scenario, ...] | list[Scenario] | None = None
          ) -> Table:
    """The scenarios (default: the file's) with the names of their entries and their
    runbooks: one query."""
    scenarios = tuple(SCENARIOS if scenarios is None else scenarios)
    entries = sorted({slug for s in scenarios for slug in s.affected})
    books = [s.runbook_slug for s in scenarios]
    rows = session.execute(union_all(
        select(literal("service"), Service.slug, Service.name).where(Service.slug.in_(entries)),
        select(literal("runbook"), CatalogRunbook.slug, CatalogRunbook.title)
        .where(CatalogRunbook.slug.in_(books)))).all()
    return Table(scenarios=scenarios,
                 names={slug: name for kind, slug, name in rows if kind == "service"},
                 runbooks={slug: title for kind, slug, title in rows if kind == "runbook"})


def runbook_body(scenario: Scenario) -> str:
    """Markdown of a scenario's runbook."""
    steps = "\n".join(f"1. {step}" for step in scenario.recovery)
    return (f"## Detection\n\n{scenario.detection}\n\n"
            f"## Objectives\n\n- RPO: {scenario.rpo}\n- RTO: {scenario.rto}\n\n"
            f"## Recovery\n\n{steps}\n")


def seed_runbooks(*, session: Session) -> None:
    """A runbook per scenario, created only where missing (they may have been edited)."""
    for scenario in SCENARIOS:
        if runbooks.get(session=session, slug=scenario.runbook_slug) is None:
            runbooks.save(session=session, slug=scenario.runbook_slug,
                          title=f"DR: {scenario.title}", body=runbook_body(scenario),
                          service=None, alertnames=[], actor_email=None)
