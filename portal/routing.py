"""URL rules whose generated URL builders are shared by every app of the process.

Werkzeug compiles two Python functions per rule (via `ast` and `compile`) to build its
URLs; that is most of the cost of `create_app`, and every app of a process (each worker,
each test) compiles the same functions again. A builder depends only on the rule's text,
its parsed parts and its defaults, and calls the converters through the rule it is bound
to, so one compiled builder serves every equal rule of any app.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from werkzeug.routing import Rule

_BUILDERS: dict[Hashable, Callable[..., tuple[str, str]]] = {}


class SharedBuilderRule(Rule):
    """A `Rule` that reuses the builder functions already compiled for an equal rule."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        key = (append_unknown, self.rule, tuple(self._trace), self._defaults_key())
        builder = _BUILDERS.get(key)
        if builder is None:
            builder = _BUILDERS[key] = super()._compile_builder(append_unknown)
        return builder

    def _defaults_key(self) -> tuple[tuple[str, Any], ...]:
        # The builder's signature names every default; a default of a variable of the rule
        # is baked into the builder as its converted URL text.
        if not self.defaults:
            return ()
        return tuple((name, self._converters[name].to_url(value)
                      if name in self._converters else None)
                     for name, value in self.defaults.items())
