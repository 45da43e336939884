"""Tenants: Meridian's customers, their dashboard rollups and their reports."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY
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


# Fulfillment durations are kept as a histogram so p50/p95 over any date range is a sum of
# per-day arrays (mergeable), never a scan of shipments. Upper bounds in seconds; the last
# bucket is open-ended. 300 s is a bound because the SLA counts shipments within 5 minutes.
DURATION_BOUNDS = (30, 60, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 5400,
                   7200, 10800, 14400, 21600, 43200, 86400)
SLA_SECONDS = 300
REPORT_KINDS = {"orders": "Orders", "fulfillment": "Fulfillment", "inventory": "Inventory",
                "usage": "Usage"}
REPORT_FORMATS = ("csv", "pdf")
REPORT_STATUSES = ("queued", "running", "succeeded", "failed")
CADENCES = ("weekly", "monthly")


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class DailyOrders(TenantScoped, Base):
    """Orders created per tenant, day, warehouse and current status (a rollup)."""
    __tablename__ = "tenants_daily_orders"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(63), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(BigInteger)
    tenant_key = synonym("tenant_id")


class DailyFulfillment(TenantScoped, Base):
    """Fulfilled orders per tenant, order day and warehouse with a duration histogram."""
    __tablename__ = "tenants_daily_fulfillment"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(63), primary_key=True)
    shipments: Mapped[int] = mapped_column(Integer)
    within_sla: Mapped[int] = mapped_column(Integer)
    buckets: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    tenant_key = synonym("tenant_id")


class LowStock(TenantScoped, Base):
    """SKUs at or below the low-stock threshold, kept in step with inventory.stock."""
    __tablename__ = "tenants_low_stock"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(63), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer)
    available: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tenant_key = synonym("tenant_id")


class DailyApiRequests(TenantScoped, Base):
    """API requests per tenant, UTC day and service, from the services' hourly counts."""
    __tablename__ = "tenants_daily_api_requests"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service: Mapped[str] = mapped_column(String(40), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger)
    client_errors: Mapped[int] = mapped_column(BigInteger)
    server_errors: Mapped[int] = mapped_column(BigInteger)
    tenant_key = synonym("tenant_id")


class Watermark(Base):
    """How far the rollups have read one source table (not tenant data)."""
    __tablename__ = "tenants_rollup_watermarks"

    source: Mapped[str] = mapped_column(String(63), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Report(TenantScoped, Timestamped, Base):
    """A report a tenant asked for (or a schedule produced), built by a Celery task."""
    __tablename__ = "tenants_reports"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(REPORT_KINDS)})", name="kind"),
        CheckConstraint(f"fmt IN ({_in(REPORT_FORMATS)})", name="fmt"),
        CheckConstraint(f"status IN ({_in(REPORT_STATUSES)})", name="status"),
        CheckConstraint("date_from <= date_to", name="range"),
        Index("ix_tenants_reports_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    fmt: Mapped[str] = mapped_column(String(4))
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    warehouse: Mapped[str | None] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    expected_rows: Mapped[int | None] = mapped_column(BigInteger)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    object_key: Mapped[str | None] = mapped_column(String(400))
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(254))
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants_report_schedules.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tenant_key = synonym("tenant_id")

    @property
    def filename(self) -> str:
        return f"{self.kind}-{self.date_from:%Y%m%d}-{self.date_to:%Y%m%d}.{self.fmt}"


class ReportSchedule(TenantScoped, Timestamped, Base):
    """A weekly or monthly report e-mailed to a tenant address."""
    __tablename__ = "tenants_report_schedules"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(REPORT_KINDS)})", name="kind"),
        CheckConstraint(f"fmt IN ({_in(REPORT_FORMATS)})", name="fmt"),
        CheckConstraint(f"cadence IN ({_in(CADENCES)})", name="cadence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    fmt: Mapped[str] = mapped_column(String(4))
    cadence: Mapped[str] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(254))
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[str | None] = mapped_column(String(254))
    tenant_key = synonym("tenant_id")

