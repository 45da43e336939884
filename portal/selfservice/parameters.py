"""Declared template parameters and their validation.

Every value a user types is checked here before it can reach Terraform, Ansible or git:
first a refusal with a specific message for the usual injection shapes (newlines,
`${...}` interpolation, shell metacharacters), then a whitelist pattern or range per
parameter. A parameter with a `charset` names every character it does not allow (the
user sees "cannot contain '_' and '!'", not a guess at what went wrong). Only values that
pass all checks are stored on a job.
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
    refuse_expressions(raw)
    found = SHELL_META.findall(raw)
    if found:
        raise ParamError(f"Shell characters are not allowed here: {_listed(found)}.")


def refuse_expressions(raw: str) -> None:
    """Refuse line breaks, control characters and template expressions such as ${...}."""
    if "\n" in raw or "\r" in raw:
        raise ParamError("Line breaks are not allowed in this field.")
    if CONTROL.search(raw):
        raise ParamError("Control characters are not allowed in this field.")
    if INTERPOLATION.search(raw):
        raise ParamError("Template expressions such as ${...} are not allowed.")


def _shown(char: str) -> str:
    """One character as a person can read it in a message."""
    if char == " ":
        return "space"
    if CONTROL.match(char) or not char.isprintable():
        return f"U+{ord(char):04X}"
    return f"'{char}'" if char != "'" else '"\'"'


def _listed(chars: list[str]) -> str:
    """The distinct characters, in the order they appear: 'a', 'b' and 'c'."""
    shown = [_shown(c) for c in dict.fromkeys(chars)]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def refuse_outside(raw: str, charset: str, *, label: str, hint: str) -> None:
    """Name every character of `raw` outside `charset` (a regex character class)."""
    allowed = re.compile(charset)
    outside = [c for c in raw if not allowed.fullmatch(c)]
    if outside:
        raise ParamError(f"{label} cannot contain {_listed(outside)}. {hint}".strip())


@dataclass(frozen=True)
class Param:
    """One declared parameter of a template; `clean` turns raw input into a safe value."""
    name: str
    label: str
    kind: str = "text"  # text | int | choice
    help: str = ""
    pattern: str | None = None
    pattern_hint: str = ""
    charset: str | None = None  # the one-character class every character must match
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
        refuse_expressions(text)
        if self.charset:
            refuse_outside(text, self.charset, label=self.label, hint=self.pattern_hint)
        refuse_injection(text)
        if self.kind == "int":
            return self._clean_int(text)
        if self.kind == "choice":
            allowed = [value for value, _ in self.options(session)]
            if text not in allowed:
                raise ParamError(f"Choose one of: {', '.join(allowed)}.")
            return text
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise ParamError(f"{self.label} is not valid. {self.pattern_hint}".strip())
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
