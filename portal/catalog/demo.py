"""Demo runbooks from Meridian's runbook entry points and failure modes, and a first score
snapshot per entry. Existing runbooks are never overwritten (they may have been edited)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog import dr, runbooks
from portal.catalog import service as catalog
from portal.catalog.models import ScoreSnapshot, Service
from portal.demo import meridian
from portal.demo.alert_runbooks import ALERT_RUNBOOKS


def entry_point_body(symptom: str, steps: str) -> str:
    """Markdown of one of Meridian's runbook entry points."""
    checks = [step.strip() for step in steps.removeprefix("Check ").split(",")]
    escalation = "\n".join(f"| {sev} | {what} | {ack} | {path} |"
                           for sev, what, ack, path in meridian.ESCALATION)
    return (f"## Symptom\n\n{symptom}.\n\n## Check\n\n"
            + "\n".join(f"1. Check {c}." for c in checks)
            + "\n\n## Escalation\n\n| Severity | Meaning | Response | Escalation |\n"
              "|---|---|---|---|\n" + escalation + "\n")


def service_body(service: Service) -> str:
    """Markdown runbook of a catalog entry: failure modes, dependencies, rollback."""
    deps = "\n".join(
        f"- **{d.depends_on.name}**: {d.purpose or 'dependency'}"
        f"{'' if d.critical else ' (its failure only degrades this service)'}"
        for d in sorted(service.dependencies, key=lambda d: d.depends_on.name)) or "- none"
    dashboards = ", ".join(f"`{d['path']}` ({d['title']})" for d in service.dashboards) or "none"
    return (f"Owner: **{service.team.name}** ({service.team.chat_channel or 'no channel'}). "
            f"Dashboards: {dashboards}.\n\n## Known failure modes\n\n"
            + "\n".join(f"- {mode}" for mode in service.failure_modes)
            + f"\n\n## Dependencies to check\n\n{deps}\n\n## Mitigation and rollback\n\n"
            + "\n".join(f"- {line}" for line in meridian.ROLLBACK)
            + "\n\nMitigate customer impact first, then find the cause; post status in "
              "Slack #incidents.\n")


def seed(*, session: Session) -> None:
    """Runbooks and a first scorecard snapshot, created only where missing."""
    slugs = {s.slug: s for s in session.scalars(select(Service))}
    for symptom, steps in meridian.RUNBOOK_ENTRY_POINTS:
        owner, alerts = meridian.RUNBOOK_LINKS[symptom]
        slug = runbooks.slugify(symptom)
        if runbooks.get(session=session, slug=slug) is None:
            runbooks.save(session=session, slug=slug, title=symptom,
                          body=entry_point_body(symptom, steps),
                          service=slugs.get(owner) if owner else None,
                          alertnames=alerts, actor_email=None)
    for slug, title, owner, alerts, body in ALERT_RUNBOOKS:
        if runbooks.get(session=session, slug=slug) is None:
            runbooks.save(session=session, slug=slug, title=title, body=body,
                          service=slugs.get(owner) if owner else None, alertnames=alerts,
                          actor_email=None)
    for service in slugs.values():
        slug = f"{service.slug}-runbook"
        if service.kind != "infrastructure" and runbooks.get(session=session, slug=slug) is None:
            runbooks.save(session=session, slug=slug, title=f"{service.name} runbook",
                          body=service_body(service), service=service, alertnames=[],
                          actor_email=None)
    dr.seed_runbooks(session=session)
    if session.scalar(select(ScoreSnapshot.id).limit(1)) is None:
        catalog.snapshot_scores(session=session)
