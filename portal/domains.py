"""The portal's domains, in dependency order, and discovery of their modules.

Each domain is a package `portal/<domain>/` that may define any of: `models` (tables),
`blueprint` (its Blueprint `bp`, routed by the domain's `*_views` modules, see
`blueprints`), `receivers` (signal handlers, see portal.events),
`tasks` (Celery tasks and an optional BEAT_SCHEDULE dict), `settings` (a SETTINGS tuple of
portal.config.EnvSettings classes) and `demo` (a `seed(*, session)` function called by `portal seed-demo`). A domain adds a module and it is picked up here,
so domains never edit each other's wiring.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from types import ModuleType

from flask import Blueprint

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


def model_modules() -> list[ModuleType]:
    """Each domain's `models` module and the `*_models` modules of the domain and its
    sub-packages, imported, in domain order.

    Tables kept in a module of their own are mapped by being found here, not by an import
    at the bottom of `models`: such an import made the two modules import each other.
    """
    found = []
    for models in modules("models"):
        found.append(models)
        package = models.__name__.rpartition(".")[0]
        found += [importlib.import_module(name) for name in _named(package, "_models")
                  if name != models.__name__]
    return found


def blueprints() -> list[Blueprint]:
    """Each domain's Blueprint, in domain order, with the routes of its view modules attached.

    A domain's `blueprint` module holds `bp` (and any child blueprints it nests) and imports
    no view module; every `*_views` module of the domain, sub-packages included, imports
    `bp` from there and routes on it. Importing them all here, and nowhere else, keeps view
    modules from importing each other, which is where import cycles used to start.
    """
    found = []
    for blueprint in modules("blueprint"):
        for name in _named(blueprint.__name__.rpartition(".")[0], "_views"):
            importlib.import_module(name)
        found.append(blueprint.bp)
    return found


def view_module_names(package: str) -> list[str]:
    """Dotted names of the `*_views` modules in `package` and its sub-packages, sorted."""
    return _named(package, "_views")


def _named(package: str, suffix: str) -> list[str]:
    """Dotted names of the modules in `package` and its sub-packages whose name ends with
    `suffix` (a sub-package's module named `suffix` without its underscore too), sorted."""
    names = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__, f"{package}."):
        if info.ispkg:
            names += _named(info.name, suffix)
            continue
        last = info.name.rpartition(".")[2]
        if last.endswith(suffix) or last == suffix.lstrip("_"):
            names.append(info.name)
    return sorted(names)
