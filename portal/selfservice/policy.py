"""Policy checked before anything runs, each refusal with a reason a person can act on.

Cost tags (seed 001: owner, team, cost-center, environment on every resource), naming
rules, prod needs a second person's approval, and prod deploys wait while the service's
error budget is exhausted. Every freeze check goes through `deploy_freeze_reason`.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.selfservice.job_templates import JobTemplate
from portal.selfservice.models import Environment, Job
from portal.slo import service as slo

REQUIRED_TAGS = ("owner", "team", "cost-center", "environment")
RESERVED_NAMES = {"prod", "production", "staging", "dr", "admin", "default", "meridian"}
COST_CENTER = re.compile(r"^cc-[0-9]{4}$")


def cost_tags(*, values: dict, tier: str, requester: User) -> dict[str, str]:
    """The mandatory cost tags of an environment request."""
    return {"owner": requester.email, "team": values.get("team", ""),
            "cost-center": values.get("cost_center", ""), "environment": tier}


def deploy_freeze_reason(*, session: Session, service_id: int, environment: str) -> str | None:
    """Why a deploy of the service to `environment` is frozen now, or None (the one freeze check)."""
    return slo.deploy_freeze(session=session, service_id=service_id, environment=environment)


def check_request(*, session: Session, template: JobTemplate, values: dict,
                  requester: User, service_id: int | None) -> list[str]:
    """Reasons to refuse this request (empty when it may proceed)."""
    reasons: list[str] = []
    tier = template.tier(values)
    if template.engine == "terraform":
        reasons += _tag_reasons(cost_tags(values=values, tier=tier, requester=requester))
        reasons += _name_reasons(session=session, name=values["name"], team=values["team"])
    if template.engine == "argocd" and service_id is not None:
        frozen = deploy_freeze_reason(session=session, service_id=service_id, environment=tier)
        if frozen:
            reasons.append(frozen)
    return reasons


def _tag_reasons(tags: dict[str, str]) -> list[str]:
    missing = [k for k in REQUIRED_TAGS if not tags.get(k)]
    reasons = [f"Missing required cost tag(s): {', '.join(missing)}."] if missing else []
    if tags.get("cost-center") and not COST_CENTER.match(tags["cost-center"]):
        reasons.append("The cost-center tag must look like cc-1234.")
    return reasons


def _name_reasons(*, session: Session, name: str, team: str) -> list[str]:
    if name in RESERVED_NAMES:
        return [f"The name {name!r} is reserved for Meridian's own environments."]
    if team and not name.startswith(f"{team}-"):
        return [f"Environment names start with the owning team's slug: {team}-..."]
    live = session.scalar(select(Environment.id).where(
        Environment.name == name, Environment.status != "destroyed"))
    if live is not None:
        return [f"An environment named {name!r} already exists; destroy it or pick another name."]
    return []


def check_approver(*, session: Session, job: Job, approver: User) -> str | None:
    """Why `approver` may not approve `job`, or None."""
    if job.gate != "approval" or job.status != "awaiting_approval":
        return "This job is not waiting for an approval."
    if approver.id == job.requested_by_id:
        return "You requested this job; a second person must approve it."
    if not approver.has_role("manager"):
        return "Only managers approve production changes."
    if job.service_id is not None:
        return deploy_freeze_reason(session=session, service_id=job.service_id,
                                    environment=job.tier)
    return None


def check_confirm(*, job: Job, user: User) -> str | None:
    """Why `user` may not confirm the planned `job`, or None."""
    if job.gate != "confirm" or job.status != "awaiting_approval":
        return "This job is not waiting for a confirmation."
    if user.id != job.requested_by_id and not user.has_role("admin"):
        return "Only the person who requested this job confirms its plan."
    return None
