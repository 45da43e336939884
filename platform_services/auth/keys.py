"""The signing key ring: the current RS256 key and the previous one, read from Vault.

Rotation writes a new key set (new current, the old current kept as previous) to Vault,
so tokens signed before the rotation keep verifying until they expire: the JWKS lists
both. The ring keeps the last key set it read in memory; when Vault cannot be reached,
verification (and signing with the current key) go on from that cache, while a rotation
fails loudly with RotationFailed — never a silent fallback to a key Vault does not hold.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from platform_services.auth.settings import AuthSettings
from platform_services.auth.vault import SecretsBackend, VaultUnavailable, WriteConflict
from platform_services.common.observability import Metrics

log = logging.getLogger(__name__)
KEPT_KEYS = 2  # current + previous: enough for tokens that outlive one rotation
# An unknown kid re-reads Vault at most this often, so random kids cannot hammer Vault.
UNKNOWN_KID_REFRESH_SECONDS = 5.0


class RotationFailed(Exception):
    """A rotation could not be stored in Vault; the previous keys stay in force."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey
    created_at: str

    @cached_property
    def public(self) -> rsa.RSAPublicKey:
        """The public half, derived once (verification is the hot path)."""
        return self.private.public_key()

    def jwk(self) -> dict[str, Any]:
        """The public half as a JWK with kid, use and alg."""
        return {**RSAAlgorithm.to_jwk(self.public, as_dict=True),
                "kid": self.kid, "use": "sig", "alg": "RS256"}


def _load(entry: dict[str, Any]) -> SigningKey:
    # The ring only ever stores the RSA keys it generated itself.
    private = cast(rsa.RSAPrivateKey, serialization.load_pem_private_key(
        entry["private_pem"].encode(), password=None))
    return SigningKey(entry["kid"], private, entry["created_at"])


def _dump(key: SigningKey) -> dict[str, Any]:
    pem = key.private.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    return {"kid": key.kid, "private_pem": pem, "created_at": key.created_at}


class KeyRing:
    """Signing keys cached from the secrets backend, refreshed every KEY_REFRESH_SECONDS."""

    def __init__(self, backend: SecretsBackend, settings: AuthSettings, metrics: Metrics):
        self.backend, self.settings, self.metrics = backend, settings, metrics
        self._keys: list[SigningKey] = []  # newest first
        self._version = 0
        self._loaded_at = 0.0
        self._forced_at = -UNKNOWN_KID_REFRESH_SECONDS
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read the key set; create the first key when Vault holds none yet."""
        data, version = self.backend.read_keyset()
        if data is None:
            self.rotate()
            return
        keys = [_load(entry) for entry in data["keys"]]
        with self._lock:
            self._keys, self._version, self._loaded_at = keys, version, time.monotonic()

    def refresh(self, force: bool = False) -> None:
        """Re-read the key set when stale; an unreachable Vault keeps the cached keys."""
        if not force and time.monotonic() - self._loaded_at < self.settings.key_refresh_seconds:
            return
        try:
            self.load()
        except VaultUnavailable as exc:
            self._loaded_at = time.monotonic()  # do not hammer a Vault that is down
            log.warning("key refresh failed, verifying with %d cached keys: %s",
                        len(self._keys), exc)
            if not self._keys:
                raise

    def current(self) -> SigningKey:
        """The key new tokens are signed with."""
        self.refresh()
        return self._keys[0]

    def public_key(self, kid: str) -> SigningKey | None:
        """The key with `kid`, re-reading Vault once when it is unknown (a new rotation)."""
        self.refresh()
        found = next((key for key in self._keys if key.kid == kid), None)
        if found is None and time.monotonic() - self._forced_at > UNKNOWN_KID_REFRESH_SECONDS:
            self._forced_at = time.monotonic()
            self.refresh(force=True)
            found = next((key for key in self._keys if key.kid == kid), None)
        return found

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set: current and previous public keys."""
        self.refresh()
        return {"keys": [key.jwk() for key in self._keys]}

    def rotate(self) -> SigningKey:
        """Make a new current key, keep the previous one, and store both in Vault."""
        new = SigningKey(uuid.uuid4().hex[:16],
                         rsa.generate_private_key(public_exponent=65537,
                                                  key_size=self.settings.rsa_bits),
                         datetime.now(UTC).isoformat())
        try:
            data, version = self.backend.read_keyset()
            old = [_load(entry) for entry in (data or {"keys": []})["keys"]]
            keys = [new, *old][:KEPT_KEYS]
            self.backend.write_keyset({"keys": [_dump(k) for k in keys]}, cas=version)
        except VaultUnavailable as exc:
            self.metrics.event("key_rotation", "failed")
            log.error("signing key rotation FAILED, previous keys stay in force: %s", exc)
            raise RotationFailed(f"key rotation failed: {exc}") from exc
        except WriteConflict as exc:
            self.metrics.event("key_rotation", "conflict")
            raise RotationFailed("key rotation failed: another replica rotated at the same "
                                 "time; reload and retry") from exc
        with self._lock:
            self._keys, self._version, self._loaded_at = keys, version + 1, time.monotonic()
        self.metrics.event("key_rotation", "rotated")
        log.info("signing key rotated: current %s, kept %s", new.kid,
                 [k.kid for k in keys[1:]])
        return new
