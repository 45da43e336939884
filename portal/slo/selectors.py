"""PromQL series selectors (`metric{label="v",code!~"5.."}`): the SLI queries of a spec.

A spec's good and total queries are counter selectors, so the same text can be handed to
Prometheus (`query_range`, `rate()` in generated rules) and matched by the portal's own
scrape against the services' /metrics, with identical meaning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SELECTOR = re.compile(rf"^\s*(?P<metric>{_NAME})\s*(?:\{{(?P<body>.*)\}})?\s*$", re.S)
_MATCHER = re.compile(r'\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*'
                      r'"(?P<value>(?:[^"\\]|\\.)*)"\s*(?:,|$)')


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
        parts = [f'{m.label}{m.op}"{m.value}"' for m in self.matchers]
        return f"{self.metric}{{{', '.join(parts + [f'{label}={chr(34)}{value}{chr(34)}'])}}}"


def parse(text: str) -> Selector:
    """Parse a counter selector; raises ValueError with a readable message."""
    match = _SELECTOR.match(text or "")
    if not match:
        raise ValueError("expected a counter selector such as "
                         'http_requests_total{service="order",code!~"5.."}')
    body, matchers, pos = match.group("body") or "", [], 0
    while pos < len(body.rstrip()):
        m = _MATCHER.match(body, pos)
        if not m:
            raise ValueError(f"cannot read the label matcher at {body[pos:pos + 20]!r}")
        value = m.group("value").encode().decode("unicode_escape")
        if m.group("op") in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
        matchers.append(Matcher(m.group("label"), m.group("op"), value))
        pos = m.end()
    return Selector(match.group("metric"), tuple(matchers))
