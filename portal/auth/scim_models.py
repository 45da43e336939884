"""What SCIM provisioning adds to accounts: the identity provider's view of a person and
its groups. A portal user with a `ScimUser` row is managed by the identity provider."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import Base, utcnow


class ScimUser(Base):
    """The provisioned state of one user: external id, the userName as sent, and the
    attributes the portal keeps verbatim for the identity provider."""
    __tablename__ = "scim_users"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(254))
    user_name: Mapped[str] = mapped_column(String(254))
    attributes: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())
    modified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                  server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")


class ScimGroup(Base):
    """A group of the identity provider; SSO_GROUP_MAPPINGS turns membership into roles."""
    __tablename__ = "scim_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(254), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())
    modified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                  server_default=func.now())

    members: Mapped[list[ScimGroupMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ScimGroupMember.user_id")


class ScimGroupMember(Base):
    __tablename__ = "scim_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("scim_groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    display: Mapped[str | None] = mapped_column(String(254))  # as the provider sent it

    user: Mapped[User] = relationship(lazy="joined")
