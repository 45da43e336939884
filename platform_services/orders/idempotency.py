"""Idempotency keys: PostgreSQL's unique (tenant_id, idempotency_key) on orders.orders is
the truth; Redis only lets a concurrent twin wait for the first request instead of racing
it to the unique index, and replays a finished key without a query.

A claim in Redis is a short lease, renewed while its request runs, so a request that died
or lost Redis before it could record its outcome blocks its key for a few seconds, not a
day: after that, a retry claims the key afresh and finds the stored order (or makes it).
Any Redis error counts as "no claim" and the database decides alone.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import cast

import redis

log = logging.getLogger(__name__)
DONE_TTL_SECONDS = 24 * 3600  # a finished key replays from Redis this long, then from SQL
# Extend the lease only while it is still ours, and delete it likewise: a holder whose
# lease lapsed must not extend or free the next holder's claim.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then " \
         "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then " \
           "return redis.call('del', KEYS[1]) else return 0 end"


@dataclass(frozen=True)
class Claim:
    """Outcome of claiming a key: `owner` may create (`fresh` when Redis knew nothing of
    the key: almost always a new order, so the database is not asked first; an older one
    under the key, forgotten by Redis, is still found by the insert's unique key;
    `contended` when it took the key over from a holder whose lease
    lapsed, which may have stored its order); else `order_id` (done) or neither (still in
    progress after waiting, or a different request)."""
    owner: bool
    order_id: str | None = None
    fingerprint_mismatch: bool = False
    contended: bool = False
    fresh: bool = False


class IdempotencyKeys:
    """Leased claims on idempotency keys in Redis (`client` None: no claims at all)."""

    def __init__(self, client: redis.Redis | None, prefix: str, wait_seconds: float,
                 lease_seconds: float) -> None:
        self.client, self.prefix, self.wait_seconds = client, prefix, wait_seconds
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._held: dict[str, str] = {}  # key name -> the pending value this process set
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        if client is not None:
            self._renew = client.register_script(_RENEW)
            self._release = client.register_script(_RELEASE)

    def _key(self, tenant_id: int, key: str) -> str:
        return f"{self.prefix}idem:order:{tenant_id}:{key}"

    def claim(self, tenant_id: int, key: str, fingerprint: str) -> Claim:
        """Claim `key`, or wait (up to wait_seconds) for the request that holds it."""
        if self.client is None:
            return Claim(owner=True)
        name = self._key(tenant_id, key)
        value = f"pending:{fingerprint}:{secrets.token_hex(8)}"
        try:
            if self._take(name, value):
                return Claim(owner=True, fresh=True)
            deadline = time.monotonic() + self.wait_seconds
            while True:
                # redis-py types every reply as "awaitable or not"; this client is the sync one
                held = cast("str | None", self.client.get(name))
                if held is None:  # finished badly, or its lease lapsed: take it over
                    if self._take(name, value):
                        return Claim(owner=True, contended=True)
                    continue
                state, held_fp, *rest = held.split(":", 2)
                if held_fp != fingerprint:
                    return Claim(owner=False, fingerprint_mismatch=True)
                if state == "done":
                    return Claim(owner=False, order_id=rest[0])
                if time.monotonic() > deadline:
                    return Claim(owner=False)
                time.sleep(0.02)
        except redis.RedisError as exc:
            log.warning("idempotency via Redis unavailable, using the database: %s", exc)
            self._forget(name)
            return Claim(owner=True)

    def complete(self, tenant_id: int, key: str, fingerprint: str, order_id: str) -> None:
        """Remember the order made for `key` (the database has it either way)."""
        name = self._key(tenant_id, key)
        self._forget(name)
        self._quietly(lambda c: c.set(name, f"done:{fingerprint}:{order_id}",
                                      ex=DONE_TTL_SECONDS))

    def abandon(self, tenant_id: int, key: str) -> None:
        """Free `key` after a failed attempt so a retry can proceed at once."""
        name = self._key(tenant_id, key)
        value = self._forget(name)
        if value is not None:
            self._quietly(lambda c: self._release(keys=[name], args=[value]))

    def _take(self, name: str, value: str) -> bool:
        assert self.client is not None  # only claim() calls this, with a client
        if not self.client.set(name, value, nx=True, px=self.lease_ms):
            return False
        with self._lock:
            self._held[name] = value
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew_while_held,
                                                 name="idempotency-lease", daemon=True)
                self._renewer.start()
        return True

    def _forget(self, name: str) -> str | None:
        with self._lock:
            return self._held.pop(name, None)

    def _renew_while_held(self) -> None:
        """Extend every lease this process holds, three times per lease; exit when none is
        held (the next claim starts a new thread)."""
        while True:
            time.sleep(self.lease_ms / 3000)
            with self._lock:
                held = dict(self._held)
                if not held:
                    self._renewer = None
                    return
            for name, value in held.items():
                try:
                    self._renew(keys=[name], args=[value, self.lease_ms])
                except redis.RedisError as exc:
                    log.warning("idempotency lease not renewed: %s", exc)

    def _quietly(self, action) -> None:
        if self.client is None:
            return
        try:
            action(self.client)
        except redis.RedisError as exc:
            log.warning("idempotency key not updated in Redis: %s", exc)
