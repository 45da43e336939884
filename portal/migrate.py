"""Run Alembic programmatically: the only way the schema is created or changed."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from portal.config import PROJECT_ROOT


def alembic_config(url: str | None = None, connection=None) -> Config:
    """An Alembic config pointing at `migrations/`, bound to a URL or an open connection."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    if url is not None:
        cfg.attributes["url"] = url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Upgrade the database at `url` to `revision` (all heads by default)."""
    command.upgrade(alembic_config(url=url), revision)
