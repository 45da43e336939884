"""The portal's domains, in dependency order, and discovery of their modules.

Each domain is a package `portal/<domain>/` that may define any of: `models` (tables),
`views` (a Blueprint named `bp`), `receivers` (signal handlers, see portal.events),
`tasks` (Celery tasks and an optional BEAT_SCHEDULE dict), `settings` (a SETTINGS tuple of
portal.config.Setting) and `demo` (a `seed(*, session)` function called by `portal seed-demo`). A domain adds a module and it is picked up here,
so domains never edit each other's wiring.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

DOMAINS = ("tenants", "auth", "catalog", "health", "home", "slo", "oncall", "incidents",
           "selfservice", "statuspage", "search")


def module_names(kind: str) -> list[str]:
    """Dotted names of the domains' `kind` modules that exist."""
    names = []
    for domain in DOMAINS:
        if importlib.util.find_spec(f"portal.{domain}") is None:
            continue
        name = f"portal.{domain}.{kind}"
        if importlib.util.find_spec(name) is not None:
            names.append(name)
    return names


def modules(kind: str) -> list[ModuleType]:
    """The domains' `kind` modules that exist, imported, in domain order."""
    return [importlib.import_module(name) for name in module_names(kind)]
