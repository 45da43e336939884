"""The navigation: each entry names the roles that may use it.

An entry whose endpoint is not registered is hidden, so an area appears in the menu the
moment its blueprint lands, and never as a dead link before.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, url_for

INTERNAL = ("developer", "oncall", "manager")


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[str, ...]


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Home", "home.index", ("tenant_viewer", *INTERNAL)),
    NavItem("My tenant", "home.my_tenant", ("tenant_viewer",)),
    NavItem("Catalog", "catalog.index", INTERNAL),
    NavItem("SLOs", "slo.index", INTERNAL),
    NavItem("On-call", "oncall.index", ("oncall", "manager")),
    NavItem("Incidents", "incidents.index", INTERNAL),
    NavItem("Self-service", "selfservice.index", ("developer", "manager")),
    NavItem("Approvals", "selfservice.approvals", ("manager",)),
    NavItem("Drift", "selfservice.drift_inbox", INTERNAL),
    NavItem("Game days", "selfservice.gameday_list", ("developer", "oncall", "manager")),
    NavItem("Tenants", "tenants.index", INTERNAL),
    NavItem("Audit log", "auth.audit_log", ("admin",)),
)


def also_allow(app: Flask, endpoint: str, allowed: Callable[[object], bool]) -> None:
    """Show `endpoint` to users without its roles for whom `allowed(user)` holds (a domain
    knows facts the menu cannot, e.g. that a developer is on a rota)."""
    app.extensions.setdefault("nav_also_allow", {})[endpoint] = allowed


def items_for(user) -> list[tuple[str, str]]:
    """(label, url) of the entries this user may use, in menu order."""
    if not user.is_authenticated:
        return []
    views = current_app.view_functions
    extra = current_app.extensions.get("nav_also_allow", {})
    return [(item.label, url_for(item.endpoint)) for item in NAV_ITEMS
            if item.endpoint in views and (user.has_role(*item.roles) or (
                item.endpoint in extra and extra[item.endpoint](user)))]
