"""Service-specific settings read from environment variables into a frozen dataclass.

ServiceConfig holds what every service shares; a service with settings of its own (the
Vault address of auth, the SMTP relays of notification, ...) declares them as a dataclass
whose fields carry `metadata={"env": NAME, "help": text}`, exactly like ServiceConfig, and
reads them once at build time with `load`. Nothing reads the environment at import time.
"""
from __future__ import annotations

import os
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def _parse(kind: Any, raw: str) -> Any:
    kind = str(kind)
    if kind.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if "None" in kind and not raw.strip():
        return None
    if kind.startswith("int"):
        return int(raw)
    if kind.startswith("float"):
        return float(raw)
    if kind.startswith("bool"):
        if raw.strip().lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise ValueError(f"{raw!r} is not a boolean")
        return raw.strip().lower() in ("1", "true", "yes")
    return raw.strip()


def from_environ(cls: type, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The values of `cls`'s fields that `environ` (default: os.environ) sets, parsed."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(cls):
        name = f.metadata.get("env")
        if name and name in env:
            try:
                values[f.name] = _parse(f.type, env[name])
            except ValueError as exc:
                raise ValueError(f"invalid {name}: {exc}") from exc
    return values


def load(cls: type[T], environ: dict[str, str] | None = None) -> T:
    """An instance of the settings dataclass `cls` from `environ` (default: os.environ)."""
    return cls(**from_environ(cls, environ))


def documented(cls: type) -> list[tuple[str, Any, str]]:
    """(env name, default, help) of every setting of `cls`, for the README table."""
    return [(f.metadata["env"], f.default, f.metadata["help"])
            for f in fields(cls) if "env" in f.metadata]
