"""PromQL series selectors (`metric{label="v",code!~"5.."}`): the SLI queries of a spec.

A spec's good and total queries are counter selectors, so the same text can be handed to
Prometheus (`query_range`, `rate()` in generated rules) and matched by the portal's own
scrape against the services' /metrics, with identical meaning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser

MAX_LENGTH = 2048
# MatchOp values are not hashable, so they are looked up by name.
_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...]

    def matches(self, metric: str, labels: dict[str, str]) -> bool:
        """True when a sample of `metric` with `labels` is selected."""
        return metric == self.metric and all(m.matches(labels) for m in self.matchers)

    def with_label(self, label: str, value: str) -> str:
        """The selector text with one more equality matcher (for promtool input series)."""
        parts = [f"{m.label}{m.op}{_quote(m.value)}" for m in self.matchers]
        return f"{self.metric}{{{', '.join(parts + [f'{label}={_quote(value)}'])}}}"


def _quote(value: str) -> str:
    """A PromQL double-quoted string literal of `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse(text: str) -> Selector:
    """Parse a counter selector with the PromQL grammar; raises ValueError with a readable
    message. Only a plain instant selector is accepted: functions, ranges, offsets and `@`
    would change what the same text means to Prometheus and to the portal's own scrape."""
    if len(text or "") > MAX_LENGTH:
        # The parser recurses per nesting level; a bounded text bounds its stack.
        raise ValueError(f"a selector is at most {MAX_LENGTH} characters")
    try:
        expr = promql_parser.parse(text or "")
    except ValueError as exc:
        raise ValueError(f"not a PromQL selector: {exc}") from exc
    if (not isinstance(expr, promql_parser.VectorSelector) or not expr.name
            or expr.offset is not None or expr.at is not None):
        raise ValueError("expected a counter selector such as "
                         'http_requests_total{service="order",code!~"5.."}')
    matchers = tuple(Matcher(m.name, _OPS[str(m.op).rpartition(".")[2]], m.value)
                     for m in expr.matchers.matchers if m.name != "__name__")
    return Selector(expr.name, matchers)
