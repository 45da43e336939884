"""Tenants: lookups that respect the session's tenant scope."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.tenants.models import PLANS, Tenant


def get_by_slug(*, session: Session, slug: str) -> Tenant | None:
    """The tenant with this slug, or None (also None when it is outside the caller's scope)."""
    return session.scalar(select(Tenant).where(Tenant.slug == slug))


def list_all(*, session: Session, plan: str | None = None) -> list[Tenant]:
    """Every tenant the session may see, by name."""
    stmt = select(Tenant).order_by(Tenant.name)
    if plan:
        stmt = stmt.where(Tenant.plan == plan)
    return list(session.scalars(stmt))


def count_by_plan(*, session: Session) -> dict[str, int]:
    """Number of visible tenants per plan."""
    rows = session.execute(select(Tenant.plan, func.count()).group_by(Tenant.plan))
    return {plan: 0 for plan in PLANS} | dict(rows.tuples().all())


def upsert(*, session: Session, slug: str, name: str, plan: str, region: str) -> Tenant:
    """Create the tenant or update its attributes; idempotent for seeding."""
    tenant = get_by_slug(session=session, slug=slug) or Tenant(slug=slug)
    tenant.name, tenant.plan, tenant.region, tenant.sla_target = name, plan, region, PLANS[plan]
    session.add(tenant)
    session.flush()
    return tenant
