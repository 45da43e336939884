"""Tenants: Meridian's customers."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, synonym

from portal.db import Base, TenantScoped, Timestamped

PLANS = {"starter": Decimal("99.500"), "growth": Decimal("99.900"),
         "enterprise": Decimal("99.950")}  # plan -> SLA availability %


class Tenant(TenantScoped, Timestamped, Base):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("plan IN ('starter', 'growth', 'enterprise')", name="plan"),
        CheckConstraint("region IN ('us', 'eu')", name="region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(8))
    sla_target: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    tenant_key = synonym("id")
