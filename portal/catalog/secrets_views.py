"""Secret rotation pages: every owned Vault secret's age against its policy, and the
service page's panel. Only KV v2 metadata is read; no secret value is ever fetched."""
from __future__ import annotations

from flask import render_template

from portal.auth.access import require_roles
from portal.catalog import secrets_rotation
from portal.catalog.blueprint import STAFF, bp
from portal.catalog.models import Service


@bp.get("/secrets")
@require_roles(*STAFF)
def secrets_index():
    """Every owned secret: path, owner, last rotation, policy and whether it is overdue."""
    return render_template("catalog/secrets.html", fleet=secrets_rotation.fleet())


@bp.app_template_global()
def catalog_secrets_panel(service: Service) -> secrets_rotation.Fleet:
    """The rotation state of one service's secrets (templates/catalog/_security_panel.html)."""
    return secrets_rotation.fleet_of_service(service.slug)
