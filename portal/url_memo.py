"""Remembered URLs: `url_for` answers each (endpoint, values) once per process.

Every page builds dozens of URLs (the head's assets, the menu, the account panel) and
each build walks Flask's and Werkzeug's machinery. The URL map cannot change once the app
serves requests (Flask refuses new rules then), so a relative URL built inside a request
depends only on the endpoint, the values in their order (unknown keys become the query
string in that order), the values' types (their converters turn 1 and True into different
text) and the script root the app is mounted under. That is the memo's key.

Left to Flask, and never remembered: URLs built outside a request, external URLs, any
`_anchor`/`_method`/`_scheme`, relative endpoints (".index", which depend on the current
blueprint), values of other types than plain str/int/bool/None, endpoints whose
blueprint (or the app) registers `url_defaults` (those may inject per-request values),
build errors, and any result that is not a plain path (a rule on another host or
subdomain builds an absolute URL). The memo is bounded: it starts afresh when full, so
values taken from a query string cannot grow it without limit.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.globals import _cv_request

MAX_ENTRIES = 4096
# Values equal as keys must give equal URLs: not so for floats (0.0 == -0.0), left out.
_PLAIN = frozenset({str, int, bool, type(None)})


def init_app(app: Flask) -> None:
    """Answer `app.url_for` (used by `flask.url_for` and templates) from a memo."""
    if app.url_map.host_matching or app.subdomain_matching:
        return  # a URL may then depend on the request's host: not a pure function
    build = app.url_for
    memo: dict[tuple, str] = {}
    app.extensions["url_memo"] = memo
    cacheable: dict[str, bool] = {}

    def url_for(endpoint: str, /, *, _anchor: str | None = None, _method: str | None = None,
                _scheme: str | None = None, _external: bool | None = None,
                **values: Any) -> str:
        ctx = _cv_request.get(None)
        if (ctx is None or _external or _anchor is not None or _method is not None
                or _scheme is not None or endpoint[:1] == "." or ctx.url_adapter is None):
            return build(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                         _external=_external, **values)
        if values:
            for value in values.values():
                if value.__class__ not in _PLAIN:
                    return build(endpoint, _external=_external, **values)
            key: tuple = (endpoint, ctx.url_adapter.script_name,
                          *[(name, value.__class__, value) for name, value in values.items()])
        else:
            key = (endpoint, ctx.url_adapter.script_name)
        url = memo.get(key)
        if url is not None:
            return url
        url = build(endpoint, _external=_external, **values)
        if url[:1] == "/" and url[:2] != "//" and _without_url_defaults(app, endpoint, cacheable):
            if len(memo) >= MAX_ENTRIES:
                memo.clear()
            memo[key] = url
        return url

    _install(app, url_for)


def _without_url_defaults(app: Flask, endpoint: str, known: dict[str, bool]) -> bool:
    """True when no `url_defaults` function (app-wide or of the endpoint's blueprints) runs
    for `endpoint`; Flask looks them up by the same names (see Flask.inject_url_defaults)."""
    answer = known.get(endpoint)
    if answer is None:
        names: list[str | None] = [None]
        if "." in endpoint:
            parts = endpoint.rpartition(".")[0].split(".")
            names += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
        answer = known[endpoint] = not any(app.url_default_functions.get(name)
                                           for name in names)
    return answer


def _install(app: Flask, url_for: Callable[..., str]) -> None:
    # `flask.url_for` calls `current_app.url_for`, which finds this instance attribute
    # first; the Jinja environment holds the bound method it saw when it was made.
    setattr(app, "url_for", url_for)  # noqa: B010 - mypy refuses assigning to a method
    app.jinja_env.globals["url_for"] = url_for
