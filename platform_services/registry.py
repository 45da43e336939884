"""Which builder makes which service."""
from __future__ import annotations

from platform_services.auth.api import build as auth
from platform_services.billing.api import build as billing
from platform_services.common.config import ServiceConfig
from platform_services.common.runner import Service
from platform_services.fulfillment.api import build as fulfillment
from platform_services.inventory.api import build as inventory
from platform_services.notification.api import build as notification
from platform_services.orders.api import build as order
from platform_services.search.api import build as search
from platform_services.worker.api import build as worker

BUILDERS = {"order": order, "inventory": inventory, "fulfillment": fulfillment,
            "worker": worker, "auth": auth, "billing": billing, "notification": notification,
            "search": search}


def build(config: ServiceConfig, *, log: bool = True) -> Service:
    """Build the service named by `config.service`."""
    return BUILDERS[config.service](config, log=log)
