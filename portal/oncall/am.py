"""The Alertmanager client configured for this app (ALERTMANAGER_URL) and the app's cache
of the alert board pulled from it."""
from __future__ import annotations

from flask import current_app

from portal.integrations.alertmanager import AlertmanagerCluster, parse_urls
from portal.oncall.alerts import AlertCache

_clients: dict[tuple[str, float], AlertmanagerCluster] = {}


def am_client() -> AlertmanagerCluster | None:
    """The Alertmanager cluster of the configured URL(s), or None when none is set.

    One client per setting and process, so polling reuses its keep-alive connections.
    """
    url = current_app.config.get("ALERTMANAGER_URL")
    if not url or not parse_urls(url):
        return None
    key = (url, current_app.config["ALERTMANAGER_TIMEOUT"])
    if key not in _clients:
        _clients[key] = AlertmanagerCluster(parse_urls(url), timeout=key[1], retries=1)
    return _clients[key]


def alert_cache() -> AlertCache:
    """This app's alert board cache, shared by every viewer (ONCALL_ALERTS_CACHE_SECONDS)."""
    cache = current_app.extensions.get("oncall_alert_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("oncall_alert_cache", AlertCache())
    cache.max_age = current_app.config["ONCALL_ALERTS_CACHE_SECONDS"]
    return cache
