"""Declared template parameters and their validation.

Every value a user types is checked here before it can reach Terraform, Ansible or git:
first a refusal with a specific message for the usual injection shapes (newlines,
`${...}` interpolation, shell metacharacters), then a whitelist pattern or range per
parameter. Only values that pass both are stored on a job.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

Choices = Callable[[Session], list[tuple[str, str]]]
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
INTERPOLATION = re.compile(r"[$%]\{")
SHELL_META = re.compile(r"""[;|&$`"'<>\\*?!(){}\[\]]""")


class ParamError(ValueError):
    """A parameter value was refused; the message is shown next to the field."""


def refuse_injection(raw: str) -> None:
    """Refuse the value shapes that could smuggle commands or expressions into a tool."""
    if "\n" in raw or "\r" in raw:
        raise ParamError("Line breaks are not allowed in this field.")
    if CONTROL.search(raw):
        raise ParamError("Control characters are not allowed in this field.")
    if INTERPOLATION.search(raw):
        raise ParamError("Template expressions such as ${...} are not allowed.")
    if SHELL_META.search(raw):
        raise ParamError("Shell characters such as ; | & $ ` \" ' < > are not allowed.")


@dataclass(frozen=True)
class Param:
    """One declared parameter of a template; `clean` turns raw input into a safe value."""
    name: str
    label: str
    kind: str = "text"  # text | int | choice
    help: str = ""
    pattern: str | None = None
    pattern_hint: str = ""
    minimum: int | None = None
    maximum: int | None = None
    default: object = None
    choices: Choices | None = field(default=None, compare=False)

    def options(self, session: Session) -> list[tuple[str, str]]:
        """The allowed (value, label) pairs of a choice parameter."""
        return self.choices(session) if self.choices else []

    def clean(self, raw: object, *, session: Session) -> object:
        """The validated value, or ParamError with a message for the user."""
        text = "" if raw is None else str(raw).strip()
        if text == "" and self.default is not None:
            return self.default
        if text == "":
            raise ParamError(f"{self.label} is required.")
        refuse_injection(text)
        if self.kind == "int":
            return self._clean_int(text)
        if self.kind == "choice":
            allowed = [value for value, _ in self.options(session)]
            if text not in allowed:
                raise ParamError(f"Choose one of: {', '.join(allowed)}.")
            return text
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise ParamError(f"{self.label}: {self.pattern_hint}")
        return text

    def _clean_int(self, text: str) -> int:
        if not re.fullmatch(r"-?\d{1,6}", text):
            raise ParamError(f"{self.label} must be a whole number.")
        value = int(text)
        if self.minimum is not None and value < self.minimum or \
                self.maximum is not None and value > self.maximum:
            raise ParamError(f"{self.label} must be between {self.minimum} and {self.maximum}.")
        return value


def clean_all(params: tuple[Param, ...], raw: dict, *, session: Session
              ) -> tuple[dict, dict[str, str]]:
    """Validate every declared parameter: (clean values, {name: message} of refusals).

    Keys that are not declared are ignored, so nothing undeclared reaches a tool.
    """
    values, errors = {}, {}
    for param in params:
        try:
            values[param.name] = param.clean(raw.get(param.name), session=session)
        except ParamError as exc:
            errors[param.name] = str(exc)
    return values, errors
