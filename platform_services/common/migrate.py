"""Schema migrations of the services: `python -m platform_services migrate`."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from platform_services.auth.models import metadata as auth
from platform_services.billing.models import metadata as billing
from platform_services.common.api_usage import metadata as telemetry
from platform_services.fulfillment.models import metadata as fulfillment
from platform_services.inventory.models import metadata as inventory
from platform_services.notification.models import metadata as notification
from platform_services.orders.models import metadata as orders
from platform_services.search.models import metadata as search
from platform_services.worker.models import metadata as worker

SCRIPT_LOCATION = Path(__file__).resolve().parents[2] / "migrations" / "services"
ALL_METADATA = (orders, inventory, fulfillment, worker, auth, billing, notification, search,
                telemetry)
SCHEMAS = tuple(m.schema for m in ALL_METADATA)
VERSION_TABLE = "services_alembic_version"


def all_metadata() -> list[MetaData]:
    """The metadata of every service's schema (for autogenerate)."""
    return list(ALL_METADATA)


def alembic_config(url: str) -> Config:
    """An Alembic config for migrations/services bound to `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Upgrade every service branch (or `revision`) on the database at `url`."""
    command.upgrade(alembic_config(url), revision)
