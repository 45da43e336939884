"""The error-budget state a request form shows before anything is submitted.

The refusal itself stays where it was (policy.check_request, at submit and again at
approval); this only tells the requester early, through the same `deploy_freeze_reason`,
so the form and the server can never disagree about whether a freeze is on.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.catalog.models import Service
from portal.selfservice import policy
from portal.selfservice.job_templates import JobTemplate
from portal.slo import service as slo
from portal.slo.models import PolicyOverride

# The way past a freeze: a manager's time-limited override with a written justification,
# granted on the service's page (portal.slo; it lasts at most this long).
OVERRIDE_MAX_DAYS = slo.MAX_OVERRIDE.days
OVERRIDE_MIN_JUSTIFICATION = slo.MIN_JUSTIFICATION


@dataclass(frozen=True)
class FreezeView:
    """What the form's error-budget panel shows, and whether its submit button is disabled."""
    engine: str
    tier: str | None
    service: Service | None
    state: str | None           # healthy | at_risk | exhausted (None: no SLO)
    remaining: Fraction | None  # the lowest budget share left over the service's SLOs
    remaining_slo: str | None   # the SLO that share belongs to
    reason: str | None          # why the deploy would be refused now (None: not frozen)
    override: PolicyOverride | None
    # Why the image would be refused for critical CVEs (policy.vulnerability_block_reason)
    vulnerability_reason: str | None = None
    override_max_days = OVERRIDE_MAX_DAYS
    override_min_justification = OVERRIDE_MIN_JUSTIFICATION

    @property
    def blocked(self) -> bool:
        """True when the server would refuse this request for a freeze or for critical CVEs
        in the image: submit is disabled."""
        return self.reason is not None or self.vulnerability_reason is not None

    @property
    def remaining_percent(self) -> str:
        """The budget left, never below 0% (the overspend is `overspent_percent`)."""
        return "—" if self.remaining is None else f"{max(float(self.remaining), 0) * 100:.1f}%"

    @property
    def overspent_percent(self) -> str | None:
        """How far past the budget the service is, e.g. '140.0%' (None when within it)."""
        if self.remaining is None or self.remaining >= 0:
            return None
        return f"{-float(self.remaining) * 100:.1f}%"


def _lowest_budget(session: Session, service: Service) -> tuple[str | None, Fraction | None,
                                                               str | None]:
    statuses = slo.evaluate(session=session, slos=slo.slos_for_services(
        session=session, service_ids=[service.id]))
    if not statuses:
        return None, None, None
    state = slo.worst_state([st.policy for st in statuses])
    measured = [st for st in statuses if st.budget.counts.total]
    if not measured:
        return state, None, None
    lowest = min(measured, key=lambda st: st.budget.remaining)
    return state, lowest.budget.remaining, lowest.slo.name


def freeze_view(*, session: Session, template: JobTemplate, service_slug: str | None,
                environment: str | None, image_tag: str | None = None) -> FreezeView:
    """The error-budget state of the chosen service and whether a freeze blocks the request."""
    tier = template.fixed_tier or environment
    if template.engine != "argocd":
        return FreezeView(template.engine, tier, None, None, None, None, None, None)
    found = catalog.get_service(session=session, slug=service_slug) if service_slug else None
    if found is None:
        return FreezeView(template.engine, tier, None, None, None, None, None, None)
    state, remaining, remaining_slo = _lowest_budget(session, found)
    reason = policy.deploy_freeze_reason(session=session, service_id=found.id,
                                         environment=tier or "")
    override = slo.active_override(session=session, service_id=found.id)
    vulnerable = policy.vulnerability_block_reason(
        session=session, service_id=found.id, environment=tier or "", action=template.action,
        image_tag=image_tag)
    return FreezeView(template.engine, tier, found, state, remaining, remaining_slo, reason,
                      override, vulnerable)


def form_choice(form, name: str) -> str | None:
    """The value a form field shows: what was submitted, else its first choice."""
    if name not in form:
        return None
    field = form[name]
    if field.data:
        return field.data
    first = next(iter(getattr(field, "choices", None) or []), None)
    return first.value if first is not None else None
