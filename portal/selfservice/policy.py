"""Policy checked before anything runs, each refusal with a reason a person can act on.

Cost tags (owner, team, cost-center, environment on every resource), naming
rules, prod needs a second person's approval, prod deploys wait while the service's
error budget is exhausted (every freeze check goes through `deploy_freeze_reason`), and a
service failing critical readiness checks gets a warning, or a refused prod deploy when
SELFSERVICE_BLOCK_PROD_ON_CRITICAL_CHECKS is on (`critical_check_block_reason`).
Terraform plans are checked again after planning by the Rego policies of
infra/policies/terraform/ (portal.selfservice.plan_policy); a deny refuses the apply.
"""
from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog import service as catalog
from portal.catalog import vulnerabilities
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


def critical_checks_warning(*, session: Session, service_id: int) -> list[str]:
    """The critical readiness checks the service fails now (shown as a warning on deploys)."""
    return catalog.critical_checks_failing(session=session, service_id=service_id)


def blocks_prod_on_critical_checks() -> bool:
    """Whether failing critical checks refuse a prod deploy (else they only warn)."""
    return bool(current_app.config["SELFSERVICE_BLOCK_PROD_ON_CRITICAL_CHECKS"])


def critical_check_block_reason(*, session: Session, service_id: int, environment: str,
                                action: str) -> str | None:
    """Why a prod deploy is refused for failing critical checks, or None.

    Rollbacks are never blocked: reverting is how a bad release is undone.
    """
    if action != "deploy" or environment != "prod" or not blocks_prod_on_critical_checks():
        return None
    failing = critical_checks_warning(session=session, service_id=service_id)
    if not failing:
        return None
    # The catalog gives "title: detail"; the reason names the checks, the scorecard explains.
    titles = [item.split(": ", 1)[0] for item in failing]
    return ("Prod deploys of a service failing critical readiness checks are blocked here; "
            "fix these first (its scorecard says how): " + "; ".join(titles) + ".")


def vulnerability_block_reason(*, session: Session, service_id: int, environment: str,
                               action: str, image_tag: str | None) -> str | None:
    """Why a prod deploy of this image is refused for critical CVEs, or None (the one check).

    Rollbacks are never blocked. The way past it is the same manager override that lifts an
    error-budget freeze: time-limited, justified in writing, on the service's timeline and
    in the audit log.
    """
    if action != "deploy" or environment != "prod" or not image_tag:
        return None
    overridden = slo.active_override(session=session, service_id=service_id) is not None
    return vulnerabilities.deploy_block_reason(session=session, service_id=service_id,
                                               image_ref=image_tag, environment=environment,
                                               overridden=overridden)


def _deploy_reasons(*, session: Session, service_id: int, environment: str,
                    action: str, image_tag: str | None = None) -> list[str]:
    reasons = [deploy_freeze_reason(session=session, service_id=service_id,
                                    environment=environment),
               critical_check_block_reason(session=session, service_id=service_id,
                                           environment=environment, action=action),
               vulnerability_block_reason(session=session, service_id=service_id,
                                          environment=environment, action=action,
                                          image_tag=image_tag)]
    return [r for r in reasons if r]


def check_request(*, session: Session, template: JobTemplate, values: dict,
                  requester: User, service_id: int | None,
                  reapplies: int | None = None) -> list[str]:
    """Reasons to refuse this request (empty when it may proceed); `reapplies` is the id of
    the existing environment a Terraform request applies again, which keeps its name."""
    reasons: list[str] = []
    tier = template.tier(values)
    if template.engine == "terraform":
        reasons += _tag_reasons(cost_tags(values=values, tier=tier, requester=requester))
        reasons += _name_reasons(session=session, name=values["name"], team=values["team"],
                                 reapplies=reapplies)
        reasons += _served_service_reasons(session=session, values=values)
    if template.engine == "argocd" and service_id is not None:
        reasons += _deploy_reasons(session=session, service_id=service_id, environment=tier,
                                   action=template.action, image_tag=values.get("image_tag"))
    return reasons


def _tag_reasons(tags: dict[str, str]) -> list[str]:
    missing = [k for k in REQUIRED_TAGS if not tags.get(k)]
    reasons = [f"Missing required cost tag(s): {', '.join(missing)}."] if missing else []
    if tags.get("cost-center") and not COST_CENTER.match(tags["cost-center"]):
        reasons.append("The cost-center tag must look like cc-1234.")
    return reasons


def _served_service_reasons(*, session: Session, values: dict) -> list[str]:
    # An environment lands on a service's incidents, so only its own team may tie it there.
    entry = catalog.get_service(session=session, slug=values["service"]) \
        if values.get("service") else None
    if entry is not None and entry.team.slug != values["team"]:
        return [f"{entry.name} belongs to another team; an environment serves only a "
                "service of the team it is tagged with."]
    return []


def _name_reasons(*, session: Session, name: str, team: str,
                  reapplies: int | None = None) -> list[str]:
    if name in RESERVED_NAMES:
        return [f"The name {name!r} is reserved for Meridian's own environments."]
    if team and not name.startswith(f"{team}-"):
        return [f"Environment names start with the owning team's slug: {team}-..."]
    live = session.scalar(select(Environment.id).where(
        Environment.name == name, Environment.status != "destroyed"))
    if live is not None and live != reapplies:
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
        # Checked again at approval: the budget or the scorecard may have changed since.
        reasons = _deploy_reasons(session=session, service_id=job.service_id,
                                  environment=job.tier, action=job.action,
                                  image_tag=(job.params or {}).get("image_tag"))
        return " ".join(reasons) or None
    return None


def check_confirm(*, job: Job, user: User) -> str | None:
    """Why `user` may not confirm the planned `job`, or None."""
    if job.gate != "confirm" or job.status != "awaiting_approval":
        return "This job is not waiting for a confirmation."
    if user.id != job.requested_by_id and not user.has_role("admin"):
        return "Only the person who requested this job confirms its plan."
    return None
