"""The monthly SLA report of a tenant: one row per tenant and month (the unique key that
makes building it idempotent), with its figures and where its PDF and CSV are stored."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, synonym

from portal.db import Base, TenantScoped, Timestamped


class SlaReport(TenantScoped, Timestamped, Base):
    """One tenant's SLA for one calendar month (UTC)."""
    __tablename__ = "tenants_sla_reports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "month", name="uq_tenants_sla_reports_tenant_month"),
        CheckConstraint("EXTRACT(DAY FROM month) = 1", name="month_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    availability: Mapped[Decimal | None] = mapped_column(Numeric(9, 5))  # % (None: no data)
    downtime_minutes: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    target: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    met: Mapped[bool] = mapped_column(Boolean)
    credit_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    credit_cents: Mapped[int | None] = mapped_column(Integer)
    incidents: Mapped[int] = mapped_column(Integer)
    pdf_key: Mapped[str] = mapped_column(String(400))
    csv_key: Mapped[str] = mapped_column(String(400))
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tenant_key = synonym("tenant_id")

    def filename(self, fmt: str) -> str:
        """The download name of the report's `fmt` file, e.g. sla-2026-11.pdf."""
        return f"sla-{self.month:%Y-%m}.{fmt}"
