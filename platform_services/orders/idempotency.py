"""Idempotency keys in Redis: the first request with a key claims it, its twins wait for
the outcome and answer with the same order. PostgreSQL's unique constraint on
(tenant_id, idempotency_key) is the backstop when Redis is down, unset, or evicted keys."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)
TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Claim:
    """Outcome of claiming a key: `owner` may create; else `order_id` (done) or neither
    (still in progress after waiting, or a different request under the same key)."""
    owner: bool
    order_id: str | None = None
    fingerprint_mismatch: bool = False


class IdempotencyKeys:
    def __init__(self, client: redis.Redis | None, prefix: str, wait_seconds: float) -> None:
        self.client, self.prefix, self.wait_seconds = client, prefix, wait_seconds

    def _key(self, tenant_id: int, key: str) -> str:
        return f"{self.prefix}idem:order:{tenant_id}:{key}"

    def claim(self, tenant_id: int, key: str, fingerprint: str) -> Claim:
        """Claim `key`, or wait for the request that holds it to finish."""
        if self.client is None:
            return Claim(owner=True)
        name = self._key(tenant_id, key)
        try:
            if self.client.set(name, f"pending:{fingerprint}", nx=True, ex=TTL_SECONDS):
                return Claim(owner=True)
            deadline = time.monotonic() + self.wait_seconds
            while True:
                value = self.client.get(name)
                if value is None:  # the holder failed and released the key: try again
                    if self.client.set(name, f"pending:{fingerprint}", nx=True,
                                       ex=TTL_SECONDS):
                        return Claim(owner=True)
                    continue
                state, held_fp, *rest = value.split(":", 2)
                if held_fp != fingerprint:
                    return Claim(owner=False, fingerprint_mismatch=True)
                if state == "done":
                    return Claim(owner=False, order_id=rest[0])
                if time.monotonic() > deadline:
                    return Claim(owner=False)
                time.sleep(0.02)
        except redis.RedisError as exc:
            log.warning("idempotency via Redis unavailable, using the database: %s", exc)
            return Claim(owner=True)

    def complete(self, tenant_id: int, key: str, fingerprint: str, order_id: str) -> None:
        """Remember the order made for `key`."""
        self._quietly(lambda c: c.set(self._key(tenant_id, key),
                                      f"done:{fingerprint}:{order_id}", ex=TTL_SECONDS))

    def abandon(self, tenant_id: int, key: str) -> None:
        """Free `key` after a failed attempt so a retry can proceed."""
        self._quietly(lambda c: c.delete(self._key(tenant_id, key)))

    def _quietly(self, action) -> None:
        if self.client is None:
            return
        try:
            action(self.client)
        except redis.RedisError as exc:
            log.warning("idempotency key not updated in Redis: %s", exc)
