"""Users, roles and the audit log."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ARRAY, CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Timestamped, utcnow
from portal.tenants.models import Tenant

ROLES = ("tenant_viewer", "developer", "oncall", "manager", "admin")
INTERNAL_ROLES = ("developer", "oncall", "manager", "admin")
THEMES = ("auto", "light", "dark")


class User(UserMixin, Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "roles <@ ARRAY['tenant_viewer','developer','oncall','manager','admin']::varchar[]",
            name="known_roles"),
        # A tenant viewer is bound to exactly one tenant and holds no internal role;
        # internal staff are bound to none. Enforced by the database, not only the form.
        CheckConstraint(
            "(tenant_id IS NOT NULL) = ('tenant_viewer' = ANY(roles))", name="tenant_binding"),
        CheckConstraint(
            "NOT ('tenant_viewer' = ANY(roles)) OR roles = ARRAY['tenant_viewer']::varchar[]",
            name="tenant_viewer_alone"),
        # One account per person at the identity provider.
        Index("uq_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),
        CheckConstraint(f"theme IN {THEMES!r}", name="theme"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Copied into the session cookie at sign-in; bumping it ends every session of the user.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Single sign-on: who the person is at the provider, and the groups of the last sign-in.
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    sso_groups: Mapped[list[str] | None] = mapped_column(ARRAY(String(200)))
    # A local emergency account: keeps its password when single sign-on is required.
    break_glass: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Colour scheme of the pages: "auto" follows the device (prefers-color-scheme).
    theme: Mapped[str] = mapped_column(String(5), default="auto", server_default="auto")

    tenant: Mapped[Tenant | None] = relationship(lazy="joined")

    def has_role(self, *roles: str) -> bool:
        """True when the user holds any of `roles`; admins hold every internal role."""
        held = set(self.roles)
        if "admin" in held and not set(roles) <= {"tenant_viewer"}:
            return True
        return bool(held & set(roles))

    @property
    def is_internal(self) -> bool:
        return self.tenant_id is None


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
        Index("ix_audit_log_actor_at", "actor_email", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                         server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str | None] = mapped_column(String(60))
    target_id: Mapped[str | None] = mapped_column(String(120))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(INET)
    request_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20), default="success")
    details: Mapped[dict] = mapped_column(JSONB, default=dict)

