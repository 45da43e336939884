"""Vault (or OpenBao, same API) client for KV version 2 secret *metadata* only.

Built on hvac. It lists keys and reads `GET /v1/<mount>/metadata/<path>`: created and
updated times, the current version and each version's creation time. It never calls the
`data/` endpoints, so no secret value ever reaches the portal. Authentication is a token
(VAULT_TOKEN) or an AppRole login (VAULT_ROLE_ID + VAULT_SECRET_ID). Every call has a
timeout; an unreachable server or a 5xx raises `VaultUnavailable`, a refused token
`VaultRefused`, so callers can tell "down" from "not allowed".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import hvac
import requests
from hvac import exceptions as hvac_errors


class VaultUnavailable(RuntimeError):
    """Vault did not answer (refused, timed out, sealed or 5xx)."""


class VaultRefused(PermissionError):
    """Vault answered but refused the token or the AppRole login."""


@dataclass(frozen=True)
class SecretMetadata:
    """What KV v2 says about one secret, without its value."""
    path: str
    current_version: int
    created_time: datetime            # when the secret was first written
    updated_time: datetime            # when its metadata (or a version) last changed
    current_version_time: datetime    # when the current version was written: the last rotation


def parse_time(value: str) -> datetime:
    """A Vault RFC 3339 timestamp (nanosecond precision, `Z`) as an aware datetime."""
    text = value.strip().replace("Z", "+00:00")
    main, _, rest = text.partition(".")
    if rest:  # Python keeps microseconds: cut the fraction to 6 digits, keep the offset
        digits = "".join(ch for ch in rest if ch.isdigit())
        offset = rest[len(digits):]
        text = f"{main}.{digits[:6]}{offset}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _metadata(path: str, data: dict) -> SecretMetadata:
    current = int(data["current_version"])
    version = (data.get("versions") or {}).get(str(current)) or {}
    updated = parse_time(data["updated_time"])
    return SecretMetadata(path=path, current_version=current,
                          created_time=parse_time(data["created_time"]), updated_time=updated,
                          current_version_time=parse_time(version["created_time"])
                          if version.get("created_time") else updated)


class VaultClient:
    """KV v2 metadata reads against one Vault address and mount."""

    def __init__(self, addr: str, *, token: str | None = None, role_id: str | None = None,
                 secret_id: str | None = None, mount: str = "secret", timeout: float = 5.0):
        self.mount = mount
        # hvac hands the timeout to requests, which takes seconds as a float
        self._client = hvac.Client(url=addr, token=token,
                                   timeout=timeout)  # type: ignore[arg-type]
        self._approle = (role_id, secret_id) if role_id and secret_id else None

    def _call(self, fn, *args, **kwargs):
        try:
            if self._approle and not self._client.token:
                self._client.auth.approle.login(role_id=self._approle[0],
                                                secret_id=self._approle[1])
            return fn(*args, **kwargs)
        except (hvac_errors.Forbidden, hvac_errors.Unauthorized) as exc:
            raise VaultRefused(f"Vault refused the portal's credentials: {exc}") from exc
        except (hvac_errors.VaultDown, hvac_errors.InternalServerError,
                hvac_errors.BadGateway, requests.RequestException) as exc:
            raise VaultUnavailable(f"Vault is unreachable: {exc}") from exc

    def metadata(self, path: str) -> SecretMetadata | None:
        """The metadata of the secret at `path`, or None when there is no such secret."""
        try:
            answer = self._call(self._client.secrets.kv.v2.read_secret_metadata,
                                path=path, mount_point=self.mount)
        except hvac_errors.InvalidPath:
            return None
        return _metadata(path, answer["data"])

    def list_keys(self, path: str) -> list[str]:
        """The keys directly under `path` (folders end with `/`); empty when none."""
        try:
            answer = self._call(self._client.secrets.kv.v2.list_secrets,
                                path=path, mount_point=self.mount)
        except hvac_errors.InvalidPath:
            return []
        return list(answer["data"].get("keys") or [])
