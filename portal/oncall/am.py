"""The Alertmanager client configured for this app (ALERTMANAGER_URL)."""
from __future__ import annotations

from flask import current_app

from portal.integrations.alertmanager import AlertmanagerClient

_clients: dict[tuple[str, float], AlertmanagerClient] = {}


def am_client() -> AlertmanagerClient | None:
    """The Alertmanager client of the configured URL, or None when none is set.

    One client per URL and process, so polling reuses its keep-alive connection.
    """
    url = current_app.config.get("ALERTMANAGER_URL")
    if not url:
        return None
    key = (url, current_app.config["ALERTMANAGER_TIMEOUT"])
    if key not in _clients:
        _clients[key] = AlertmanagerClient(url, timeout=key[1], retries=1)
    return _clients[key]
