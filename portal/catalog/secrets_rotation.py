"""Secret rotation: how long ago each service's Vault secrets were rotated, against policy.

Which service owns which KV v2 path, and the maximum age per path pattern, are catalog data
(SECRET_ROTATION_FILE). A secret's last rotation is the creation time of its current
version in the KV v2 metadata; values are never read. A secret older than its policy is
overdue, which fails the service's readiness check `secrets-rotated`.
"""
from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from flask import current_app, has_app_context

from portal import request_memo
from portal.catalog import file_stamps
from portal.db import utcnow
from portal.integrations.vault import VaultClient, VaultRefused, VaultUnavailable

_AGE = re.compile(r"^([0-9]{1,6})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class RotationDataError(ValueError):
    """The rotation file is missing or malformed."""


@dataclass(frozen=True)
class Policy:
    pattern: str
    max_age: timedelta
    label: str  # as written in the file, e.g. "24h"
    note: str = ""


@dataclass(frozen=True)
class OwnedSecret:
    service: str
    path: str
    policy: Policy


@dataclass(frozen=True)
class RotationData:
    policies: tuple[Policy, ...]
    secrets: tuple[OwnedSecret, ...]


@dataclass(frozen=True)
class SecretStatus:
    """One secret's rotation state: `ok`, `overdue` or `missing` (not found in Vault)."""
    service: str
    path: str
    policy: Policy
    last_rotated: datetime | None
    version: int | None
    state: str
    age: timedelta | None = None

    @property
    def overdue(self) -> bool:
        return self.state in ("overdue", "missing")


@dataclass(frozen=True)
class Fleet:
    """Every owned secret's status, or why Vault could not be asked."""
    statuses: tuple[SecretStatus, ...] = ()
    error: str | None = None  # Vault not configured, unreachable or refusing

    def of(self, service_slug: str) -> list[SecretStatus]:
        return [s for s in self.statuses if s.service == service_slug]

    @property
    def overdue(self) -> list[SecretStatus]:
        return [s for s in self.statuses if s.overdue]


def parse_age(text: str) -> timedelta:
    """`24h`, `90d`, `1s` as a timedelta."""
    found = _AGE.match(str(text).strip())
    if not found or int(found.group(1)) == 0:
        raise RotationDataError(f"max_age {text!r} is not like 24h, 90d or 30m")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def load(path: Path | str) -> RotationData:
    """The rotation data of a file (policies in order, then the owned secrets)."""
    # Read by every service page: parsed again only when the file changes.
    ((name, mtime_ns, size),) = file_stamps.of_files([path])
    return _parsed(name, mtime_ns, size)


@functools.lru_cache(maxsize=8)
def _parsed(path: str, mtime_ns: int, size: int) -> RotationData:
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RotationDataError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise RotationDataError(f"{path} is not a mapping")
    policies = tuple(Policy(str(p["pattern"]), parse_age(p["max_age"]), str(p["max_age"]),
                            str(p.get("note", ""))) for p in raw.get("policies") or [])
    secrets = []
    for item in raw.get("secrets") or []:
        secret_path = str(item["path"]).strip("/")
        policy = policy_for(policies, secret_path)
        if policy is None:
            raise RotationDataError(f"no policy matches {secret_path!r}")
        secrets.append(OwnedSecret(str(item["service"]), secret_path, policy))
    return RotationData(policies, tuple(secrets))


def policy_for(policies: tuple[Policy, ...], path: str) -> Policy | None:
    """The first policy whose pattern matches `path`."""
    return next((p for p in policies if fnmatch.fnmatchcase(path, p.pattern)), None)


def client_from_config() -> VaultClient | None:
    """A Vault client from the app's settings, or None when Vault is not configured."""
    cfg = current_app.config
    if not cfg.get("VAULT_ADDR"):
        return None
    return VaultClient(cfg["VAULT_ADDR"], token=cfg.get("VAULT_TOKEN"),
                       role_id=cfg.get("VAULT_ROLE_ID"), secret_id=cfg.get("VAULT_SECRET_ID"),
                       mount=cfg.get("VAULT_KV_MOUNT", "secret"),
                       timeout=cfg.get("VAULT_TIMEOUT", 5.0))


def status_of(*, secret: OwnedSecret, client: VaultClient, now: datetime) -> SecretStatus:
    """One secret's rotation state from its metadata."""
    meta = client.metadata(secret.path)
    if meta is None:
        return SecretStatus(secret.service, secret.path, secret.policy, None, None, "missing")
    age = now - meta.current_version_time
    return SecretStatus(secret.service, secret.path, secret.policy, meta.current_version_time,
                        meta.current_version, "overdue" if age > secret.policy.max_age else "ok",
                        age)


def fleet(*, data: RotationData | None = None, client: VaultClient | None = None,
          now: datetime | None = None, service_slug: str | None = None) -> Fleet:
    """The rotation state of every owned secret (or only `service_slug`'s)."""
    if data is None and not has_app_context():
        return Fleet(error="No portal settings are loaded here, so Vault is not connected.")
    try:
        data = data or load(current_app.config["SECRET_ROTATION_FILE"])
    except RotationDataError as exc:
        return Fleet(error=f"The secret rotation data cannot be read: {exc}")
    client = client or client_from_config()
    if client is None:
        return Fleet(error="Vault is not connected (VAULT_ADDR is unset), so rotation ages "
                           "are unknown.")
    now = now or utcnow()
    wanted = [s for s in data.secrets if service_slug in (None, s.service)]
    try:
        return Fleet(tuple(status_of(secret=s, client=client, now=now) for s in wanted))
    except (VaultUnavailable, VaultRefused) as exc:
        return Fleet(error=str(exc))


def fleet_of_service(service_slug: str) -> Fleet:
    """`fleet(service_slug=...)`, asked of Vault once per request: a service page shows it
    in its scorecard and in its secrets panel."""
    asked = request_memo.memo("catalog.secret_fleets")
    if service_slug not in asked:
        asked[service_slug] = fleet(service_slug=service_slug)
    return asked[service_slug]


def readiness(*, service_slug: str, found: Fleet | None = None) -> tuple[str, str]:
    """The `secrets-rotated` readiness check of one service: (status, detail)."""
    found = found or fleet(service_slug=service_slug)
    if found.error:
        return "na", f"Cannot be checked: {found.error}"
    mine = found.of(service_slug)
    if not mine:
        return "na", "No Vault secret is owned by this entry."
    late = [s for s in mine if s.overdue]
    if late:
        return "fail", "Overdue for rotation: " + "; ".join(
            f"{s.path} ({'not found in Vault' if s.state == 'missing' else 'policy ' + s.policy.label})"
            for s in late) + "."
    return "pass", f"{len(mine)} secret(s) rotated within policy."
