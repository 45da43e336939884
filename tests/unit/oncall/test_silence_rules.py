"""Silence rules the portal enforces before Alertmanager sees anything."""
from datetime import UTC, datetime, timedelta

import pytest

from portal.integrations.alertmanager import Matcher
from portal.oncall.silences import SilenceError, SilenceRequest, matches, validate

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
NAME = Matcher("alertname", "HighErrorRate")


def request(*matchers, hours=2, comment="deploy of order-service 4.2", start=NOW):
    return SilenceRequest(tuple(matchers), start, start + timedelta(hours=hours), comment)


def test_a_reasonable_silence_passes():
    validate(request(NAME, Matcher("service", "order-.*", is_regex=True)), max_hours=72,
             now=NOW)


@pytest.mark.parametrize("matchers, message", [
    ((), "Add at least one matcher"),
    ((Matcher("alertname", ".*", is_regex=True),), "would silence every alert"),
    ((Matcher("alertname", ".+", is_regex=True),), "would silence every alert"),
    ((Matcher("job", "", is_equal=True, is_regex=False),
      Matcher("severity", "x|", is_regex=True)), "matches alerts without that label"),
    ((Matcher("alertname", "x^", is_equal=False),), "would silence every alert"),
    ((Matcher("service", "(", is_regex=True),), "regular expression for service is invalid"),
    ((Matcher("1bad", "x"),), "not a valid label name"),
])
def test_refused_matchers(matchers, message):
    with pytest.raises(SilenceError, match=message):
        validate(request(*matchers), max_hours=72, now=NOW)


@pytest.mark.parametrize("kwargs, message", [
    ({"hours": 73}, "at most 72 hours; this one lasts 73.0 hours"),
    ({"hours": -1}, "must end after it starts"),
    ({"start": NOW - timedelta(hours=5)}, "already be over"),
    ({"comment": "   "}, "justification"),
])
def test_refused_windows_and_comments(kwargs, message):
    with pytest.raises(SilenceError, match=message):
        validate(request(NAME, **kwargs), max_hours=72, now=NOW)


@pytest.mark.parametrize("matcher, value, expected", [
    (Matcher("a", "api"), "api", True), (Matcher("a", "api", is_equal=False), "api", False),
    (Matcher("a", "api.*", is_regex=True), "api-gateway", True),
    (Matcher("a", "api", is_regex=True), "api-gateway", False),  # anchored like Alertmanager
    (Matcher("a", "api.*", is_regex=True, is_equal=False), "web", True),
])
def test_matcher_semantics(matcher, value, expected):
    assert matches(matcher, value) is expected


@pytest.mark.parametrize("value, label, expected", [
    (r"\p{Lu}.*", "Ärger", True), (r"\p{Lu}.*", "ärger", False),  # RE2 Unicode classes
    (r"(?i)order-.*", "ORDER-service", True), ("a|b", "ab", False),  # anchored as a whole
    (r"\QC++\E", "C++", True), ("api$", "api\n", False),  # $ is the end of the text only
])
def test_regex_matchers_have_alertmanager_re2_semantics(value, label, expected):
    assert matches(Matcher("a", value, is_regex=True), label) is expected


def test_unicode_class_matcher_passes_validation():
    validate(request(NAME, Matcher("service", r"\p{Lu}.*", is_regex=True)), max_hours=72,
             now=NOW)


@pytest.mark.parametrize("value, reason", [
    (r"(a)\1", r"invalid escape sequence: \\1"),
    (r"(?=a)", "invalid perl operator"),
    (r"x\C", "not supported by Alertmanager"),
    (r"(?<n>a)", r"Write named groups as \(\?P<name>"),
    ("a{1001}", "invalid repetition size"),
])
def test_what_re2_or_alertmanager_refuses_is_refused_with_the_reason(value, reason):
    with pytest.raises(SilenceError, match=f"regular expression for service is invalid: "
                                           f".*{reason}"):
        validate(request(NAME, Matcher("service", value, is_regex=True)), max_hours=72,
                 now=NOW)
