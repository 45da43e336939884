"""Service settings read from environment variables into pydantic-settings classes.

ServiceConfig holds what every service shares; a service with settings of its own (the
Vault address of auth, the SMTP relays of notification, ...) declares them as an
`EnvSettings` class whose fields name their variable as `alias` and their meaning as
`description`, exactly like ServiceConfig, and reads them once at build time with `load`.
Nothing reads the environment at import time, and an instance built from values (tests)
never reads it: only `load` does.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Self, TypeVar

from pydantic import BeforeValidator, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

T = TypeVar("T", bound="EnvSettings")


def parse_text(value: str) -> str:
    """Surrounding blanks of a value are dropped."""
    return value.strip()


def parse_optional(value: str) -> str | None:
    """An empty value means 'not configured'."""
    return value.strip() or None


def parse_list(value: str) -> tuple[str, ...]:
    """A comma-separated list; blanks are dropped."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_bool(value: str) -> bool:
    """1/0, true/false or yes/no."""
    if value.strip().lower() not in ("1", "0", "true", "false", "yes", "no"):
        raise ValueError(f"{value!r} is not a boolean")
    return value.strip().lower() in ("1", "true", "yes")


def from_text(parse: Callable[[str], Any]) -> BeforeValidator:
    """Read a field's environment text with `parse` (a value given as an object is kept)."""
    return BeforeValidator(lambda value: parse(value) if isinstance(value, str) else value)


# The field types of environment values; int and float fields need none.
Text = Annotated[str, from_text(parse_text)]
OptionalText = Annotated[str | None, from_text(parse_optional)]
TextList = Annotated[tuple[str, ...], from_text(parse_list)]
Flag = Annotated[bool, from_text(parse_bool)]


class _Environment(EnvSettingsSource):
    """The variables of `environ` that name a setting, handed to the fields as text: the
    field types parse them (a comma-separated list is not JSON)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # The source's hook for where variables come from (its dotenv subclass uses it too).
        names = [field.alias for field in self.settings_cls.model_fields.values() if field.alias]
        return {name: self._environ[name] for name in names if name in self._environ}

    def prepare_field_value(self, field_name, field, value, value_is_complex):
        return value


class EnvSettings(BaseSettings):
    """Settings whose fields are read from the environment variable named by their alias
    (a field without one is not read from the environment) and built by field name."""
    model_config = SettingsConfigDict(case_sensitive=True, frozen=True, populate_by_name=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        return (init_settings,)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **values: Any) -> Self:
        """The settings from `environ` (default: os.environ), `values` giving the fields not
        read from it; ValueError names a bad variable."""
        found = _Environment(cls, os.environ if environ is None else environ)()
        try:
            return cls(**found, **values)
        except ValidationError as exc:
            error = exc.errors()[0]
            reason = error.get("ctx", {}).get("error") or error["msg"]
            raise ValueError(f"invalid {error['loc'][0]}: {reason}") from exc

    def with_(self, **changes: Any) -> Self:
        """A copy with some values changed (tests, the dev server)."""
        return self.model_copy(update=changes)


def load(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    """An instance of the settings class `cls` from `environ` (default: os.environ)."""
    return cls.load(environ)


def documented(cls: type[EnvSettings]) -> list[tuple[str, Any, str]]:
    """(env name, default, help) of every setting of `cls`, for the README table."""
    return [(field.alias, field.default, field.description or "")
            for field in cls.model_fields.values() if field.alias]
