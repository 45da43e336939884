"""Team memberships a person brings from the identity provider."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class TeamMembership(Base):
    """A person's membership of a catalog team, as the provider's groups said at sign-in.

    The team is named by its catalog slug rather than a foreign key: a group may name a team
    before the catalog knows it, and the membership counts as soon as the team appears.
    """
    __tablename__ = "user_team_memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    team_slug: Mapped[str] = mapped_column(String(63), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(20), default="oidc", server_default="oidc")
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                            server_default=func.now())
