"""Hostile input stopped at the portal's edge, before any view or query sees it.

PostgreSQL refuses NUL characters in text and integers beyond its column types; left to
the database, both surface as 500s. Here NUL bytes anywhere in the path, query or form
give a 400 naming the problem, integer path segments beyond the `integer` column range
simply match no route (404), and numeric query/form fields are bounded by name.
"""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, ValidationError

from portal.security import events

INT4_MAX = 2**31 - 1  # every id and count column of the portal is a PostgreSQL integer
INT_NAMES = frozenset({"before", "after", "tier", "months", "page", "offset", "limit", "hours",
                       "id"})
INT_SUFFIXES = ("_id", "_ms", "_minutes", "_hours", "_days", "_seconds")
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


class PgIntConverter(IntegerConverter):
    """`<int:...>` bounded to a PostgreSQL integer: larger values match no route (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT4_MAX)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(INT4_MAX)):  # also keeps int() off thousand-digit strings
            raise ValidationError()
        return super().to_python(value)


def is_int_field(name: str) -> bool:
    """True for query/form fields that carry a whole number by the portal's naming."""
    return name in INT_NAMES or name.endswith(INT_SUFFIXES)


def problem(name: str, value: str) -> str | None:
    """Why the field `name` = `value` is refused, or None when it is acceptable."""
    if "\x00" in name or "\x00" in value:
        return f"The field {name.replace(chr(0), '')!r} contains a NUL character."
    if is_int_field(name) and value.strip() and _INTEGER.fullmatch(value):
        if len(value.strip()) > 12 or abs(int(value)) > INT4_MAX:
            return f"The field {name!r} must be a whole number no larger than {INT4_MAX}."
    return None


def check_request() -> None:
    """Abort with 400 when the path, query or form carries hostile values."""
    if "\x00" in request.path:
        _refuse("The address contains a NUL character.")
    fields = [*request.args.items(multi=True)]
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if request.mimetype == "application/x-www-form-urlencoded":
            # Read (and cache) the raw body first: the form is then parsed from the cache,
            # and signed callbacks (Slack signs the raw body) can still verify it.
            request.get_data(cache=True)
        fields += request.form.items(multi=True)
        if request.is_json and b"\\u0000" in request.get_data(cache=True):
            _refuse("The JSON body contains a NUL character.")
    for name, value in fields:
        message = problem(name, value)
        if message:
            _refuse(message)


def _refuse(message: str) -> None:
    events.record("hostile_input", details={"reason": message[:200]})
    abort(400, description=message)


def init_app(app: Flask) -> None:
    """Bound `<int:...>` route segments and check every request; call before blueprints."""
    app.url_map.converters["int"] = PgIntConverter
    app.url_map.converters["pgint"] = PgIntConverter
    app.before_request(check_request)


def is_email(value: str) -> bool:
    """True for a syntactically valid e-mail address (no quoted local parts, no DNS check)."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
