"""A short cache of dashboard aggregates, keyed by tenant first.

Redis when REDIS_URL is set (shared by every portal process), else a dict in this process.
Every key is built by `key()`, which takes the tenant id as a required argument and puts it
right after the namespace, so two tenants can never share an entry. A Redis outage only
costs the cache: values are then computed on every request.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import cachetools
import redis
from flask import current_app

log = logging.getLogger(__name__)
NAMESPACE = "portal:tenants:v1"


def key(tenant_id: int, name: str, *params: object) -> str:
    """The cache key of one tenant's `name` aggregate for `params`."""
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool):
        raise TypeError("a cache key needs the tenant's integer id")
    return ":".join([NAMESPACE, str(tenant_id), name, *("-" if p is None else str(p)
                                                         for p in params)])


class MemoryStore:
    """The Redis calls the cache makes, over a bounded per-entry-TTL cache in this process."""

    def __init__(self, maxsize: int = 10_000):
        # Each entry lives for its own ttl (the first element of the stored pair).
        self._data: cachetools.TLRUCache = cachetools.TLRUCache(
            maxsize, ttu=lambda _key, value, now: now + value[0], timer=time.monotonic)
        self._lock = threading.Lock()

    def get(self, k: str) -> str | None:
        with self._lock:
            hit = self._data.get(k)
        return None if hit is None else hit[1]

    def setex(self, k: str, ttl: int, value: str) -> None:
        with self._lock:
            self._data[k] = (ttl, value)

    def keys(self) -> list[str]:
        with self._lock:
            self._data.expire()
            return list(self._data)


def store():
    """The app's cache store (created on first use)."""
    ext = current_app.extensions
    if "tenants_cache" not in ext:
        url = current_app.config.get("REDIS_URL")
        ext["tenants_cache"] = (redis.Redis.from_url(url, socket_timeout=0.5,
                                                     socket_connect_timeout=0.5)
                                if url else MemoryStore())
    return ext["tenants_cache"]


def cached(k: str, compute: Callable[[], Any],
           ttl_of: Callable[[Any], int] | None = None) -> Any:
    """The JSON value cached under `k`, computed and stored on a miss.

    `ttl_of(value)` may shorten the lifetime of some values (an outage notice, say).
    """
    backend = store()
    try:
        hit = backend.get(k)
    except redis.RedisError as exc:
        log.warning("dashboard cache unavailable: %s", exc)
        return compute()
    if hit is not None:
        return json.loads(hit)
    value = compute()
    ttl = ttl_of(value) if ttl_of else current_app.config["TENANTS_CACHE_SECONDS"]
    try:
        backend.setex(k, ttl, json.dumps(value))
    except redis.RedisError as exc:
        log.warning("dashboard cache unavailable: %s", exc)
    return value
