"""The auth service's secrets backend: Vault (hvac) or a local folder for development.

KV v2 holds the signing key set (written with check-and-set, so two replicas rotating at
once cannot overwrite each other); transit encrypts PII (e-mail addresses) so the
database never holds them in clear. Every failure to reach Vault — refused, timed out,
sealed, or a token that expired (so a token expiry cannot silently block key rotation) — is
raised as VaultUnavailable with the reason, never swallowed.
"""
from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from typing import Any, Protocol

import hvac
import requests
from cryptography.fernet import Fernet, InvalidToken
from hvac import exceptions as hvac_errors

from platform_services.auth.settings import AuthSettings

_UNREACHABLE = (requests.RequestException, hvac_errors.VaultDown, hvac_errors.Forbidden,
                hvac_errors.Unauthorized, hvac_errors.InternalServerError,
                hvac_errors.BadGateway, hvac_errors.VaultNotInitialized, OSError)


class VaultUnavailable(Exception):
    """Vault could not be used (unreachable, sealed, or the token is no longer valid)."""


class WriteConflict(Exception):
    """The key set changed since it was read (another replica rotated first)."""


class SecretsBackend(Protocol):
    def read_keyset(self) -> tuple[dict[str, Any] | None, int]: ...

    def write_keyset(self, data: dict[str, Any], cas: int) -> None: ...

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str: ...

    def check(self) -> str | None: ...


class HvacVault:
    """Vault or OpenBao through hvac, with a timeout on every call."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.client = hvac.Client(url=settings.vault_addr, token=settings.vault_token,
                                  # hvac hands it to requests, which takes seconds as float
                                  timeout=settings.vault_timeout)  # type: ignore[arg-type]
        self._transit_ready = False

    def _fail(self, action: str, exc: Exception) -> VaultUnavailable:
        return VaultUnavailable(f"Vault at {self.settings.vault_addr} could not {action}: "
                                f"{type(exc).__name__}: {exc}".strip()[:400])

    def read_keyset(self) -> tuple[dict[str, Any] | None, int]:
        """The stored key set and its KV version, or (None, 0) when none was written yet."""
        try:
            answer = self.client.secrets.kv.v2.read_secret_version(
                path=self.settings.vault_key_path, mount_point=self.settings.vault_kv_mount,
                raise_on_deleted_version=True)
        except hvac_errors.InvalidPath:
            return None, 0
        except _UNREACHABLE as exc:
            raise self._fail("read the signing keys", exc) from exc
        return answer["data"]["data"], int(answer["data"]["metadata"]["version"])

    def write_keyset(self, data: dict[str, Any], cas: int) -> None:
        """Write a new version only if the current one is still `cas` (0: must not exist)."""
        try:
            self.client.secrets.kv.v2.create_or_update_secret(
                path=self.settings.vault_key_path, secret=data, cas=cas,
                mount_point=self.settings.vault_kv_mount)
        except hvac_errors.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise WriteConflict(str(exc)) from exc
            raise self._fail("store the signing keys", exc) from exc
        except _UNREACHABLE as exc:
            raise self._fail("store the signing keys", exc) from exc

    def _ensure_transit_key(self) -> None:
        if self._transit_ready:
            return
        transit = self.client.secrets.transit
        try:
            transit.read_key(name=self.settings.vault_transit_key,
                             mount_point=self.settings.vault_transit_mount)
        except hvac_errors.InvalidPath:
            transit.create_key(name=self.settings.vault_transit_key,
                               mount_point=self.settings.vault_transit_mount)
        self._transit_ready = True

    def encrypt(self, plaintext: str) -> str:
        """Transit ciphertext (`vault:v1:...`) of `plaintext`."""
        try:
            self._ensure_transit_key()
            answer = self.client.secrets.transit.encrypt_data(
                name=self.settings.vault_transit_key,
                mount_point=self.settings.vault_transit_mount,
                plaintext=base64.b64encode(plaintext.encode()).decode())
        except (*_UNREACHABLE, hvac_errors.InvalidPath) as exc:
            raise self._fail("encrypt PII (transit)", exc) from exc
        return answer["data"]["ciphertext"]

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of a transit ciphertext."""
        try:
            answer = self.client.secrets.transit.decrypt_data(
                name=self.settings.vault_transit_key,
                mount_point=self.settings.vault_transit_mount, ciphertext=ciphertext)
        except (*_UNREACHABLE, hvac_errors.InvalidPath, hvac_errors.InvalidRequest) as exc:
            raise self._fail("decrypt PII (transit)", exc) from exc
        return base64.b64decode(answer["data"]["plaintext"]).decode()

    def check(self) -> str | None:
        """Readiness: Vault answers, is unsealed, and our token is still valid."""
        try:
            if self.client.sys.is_sealed():
                return "sealed (existing keys keep verifying; rotation fails)"
            self.client.auth.token.lookup_self()
        except _UNREACHABLE as exc:
            raise self._fail("be reached (existing keys keep verifying from the cache)",
                             exc) from exc
        return None


class LocalVault:
    """Development stand-in: the key set as JSON and a Fernet PII key in a folder (or memory)."""

    def __init__(self, folder: str | None) -> None:
        self.folder = Path(folder) if folder else None
        self._lock = threading.Lock()
        self._memory: tuple[dict[str, Any] | None, int] = (None, 0)
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
            key_file = self.folder / "pii.key"
            if not key_file.exists():
                key_file.write_bytes(Fernet.generate_key())
                key_file.chmod(0o600)
            self.fernet = Fernet(key_file.read_bytes())
        else:
            self.fernet = Fernet(Fernet.generate_key())

    def read_keyset(self) -> tuple[dict[str, Any] | None, int]:
        """The key set and its version."""
        if self.folder and (self.folder / "keys.json").exists():
            stored = json.loads((self.folder / "keys.json").read_text())
            return stored["data"], stored["version"]
        return self._memory

    def write_keyset(self, data: dict[str, Any], cas: int) -> None:
        """Write with the same check-and-set rule as Vault."""
        with self._lock:
            if self.read_keyset()[1] != cas:
                raise WriteConflict("the key set changed since it was read")
            if self.folder:
                path = self.folder / "keys.json"
                path.write_text(json.dumps({"data": data, "version": cas + 1}))
                path.chmod(0o600)
            else:
                self._memory = (data, cas + 1)

    def encrypt(self, plaintext: str) -> str:
        """A Fernet token standing in for transit ciphertext."""
        return "local:v1:" + self.fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of `encrypt`."""
        try:
            return self.fernet.decrypt(ciphertext.removeprefix("local:v1:").encode()).decode()
        except InvalidToken as exc:
            raise VaultUnavailable("the local PII key cannot decrypt this value") from exc

    def check(self) -> str | None:
        """Always usable; says where the keys are."""
        where = self.folder or "memory, lost at exit"
        return f"not configured (keys in {where}; development only)"


def make_backend(settings: AuthSettings) -> HvacVault | LocalVault:
    """Vault when VAULT_ADDR is set, else the local folder."""
    if settings.vault_addr:
        return HvacVault(settings)
    return LocalVault(settings.local_key_dir)
