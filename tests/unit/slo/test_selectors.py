"""SLI selectors are read with the PromQL grammar, so the portal accepts exactly what
Prometheus would accept as a plain instant selector, and refuses the rest with a message."""
from __future__ import annotations

import pytest

from portal.slo import selectors


def test_matchers_of_all_four_operators_are_read_with_their_values():
    sel = selectors.parse('http_requests_total{service="order",code!~"5..",job!="x",'
                          'path=~"/api/.*"}')
    assert sel.metric == "http_requests_total"
    assert [(m.label, m.op, m.value) for m in sel.matchers] == [
        ("service", "=", "order"), ("code", "!~", "5.."), ("job", "!=", "x"),
        ("path", "=~", "/api/.*")]
    assert sel.matches("http_requests_total", {"service": "order", "code": "200",
                                               "job": "y", "path": "/api/orders"})
    assert not sel.matches("http_requests_total", {"service": "order", "code": "503",
                                                   "job": "y", "path": "/api/orders"})


def test_escaped_quotes_survive_a_round_trip_through_with_label():
    sel = selectors.parse(r'x{a="say \"hi\"",b=~"\\d+"}')
    assert [m.value for m in sel.matchers] == ['say "hi"', r"\d+"]
    again = selectors.parse(sel.with_label("instance", 'i"1'))
    assert [(m.label, m.value) for m in again.matchers][-1] == ("instance", 'i"1')
    assert [m.value for m in again.matchers][:2] == ['say "hi"', r"\d+"]


@pytest.mark.parametrize("text", [
    "", "\x00", "rate(x[5m])", 'x{a="b"}[5m]', "x offset 5m", "x @ 100", 'x{a="b"} or y',
    '{a="b"}', 'x{a=~"("}', "٢", "(" * 10_000 + "x" + ")" * 10_000,
])
def test_anything_but_a_plain_selector_is_refused_with_a_message(text):
    with pytest.raises(ValueError) as err:
        selectors.parse(text)
    assert str(err.value)
