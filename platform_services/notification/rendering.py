"""Notification templates in a sandboxed Jinja environment.

The sandbox refuses attribute tricks (`{{ ''.__class__ }}`) and StrictUndefined turns a
missing variable into an error instead of an empty string: a template rendering
error that would garble a notification becomes a notification that fails with the reason and
is never sent. Subjects must stay on one line (no header injection through data).
"""
from __future__ import annotations

from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_RENDERED = 100_000
_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                     keep_trailing_newline=True)

# Built-in templates a tenant can override with its own of the same name.
DEFAULTS = {
    "export_ready": ("Your Meridian export is ready",
                     "Hello,\n\nthe export {{ job_id }} of your data is ready in "
                     "{{ bucket }}/{{ key }}.\n\n-- Meridian"),
}


class TemplateFailed(Exception):
    """The template cannot be compiled or rendered with the given data."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def check(subject: str, body: str) -> None:
    """Compile both parts, raising TemplateFailed with the line of a syntax error."""
    for part, source in (("subject", subject), ("body", body)):
        try:
            _env.parse(source)
        except TemplateError as exc:
            lineno = getattr(exc, "lineno", None)  # only syntax errors carry a line
            line = f" (line {lineno})" if lineno else ""
            raise TemplateFailed(f"{part}: {exc.message}{line}") from exc


def render(subject: str, body: str, data: dict) -> Rendered:
    """Both parts rendered with `data`, or TemplateFailed naming what went wrong."""
    try:
        out = Rendered(_env.from_string(subject).render(data).strip(),
                       _env.from_string(body).render(data))
    except SecurityError as exc:
        raise TemplateFailed(f"unsafe template: {exc}") from exc
    except TemplateError as exc:
        raise TemplateFailed(f"template error: {exc.message or exc}") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:  # e.g. a filter on wrong data
        raise TemplateFailed(f"template error: {type(exc).__name__}: {exc}") from exc
    if "\n" in out.subject or "\r" in out.subject:
        raise TemplateFailed("template error: the subject renders to several lines")
    if len(out.body) > MAX_RENDERED:
        raise TemplateFailed(f"template error: body longer than {MAX_RENDERED} characters")
    return out
