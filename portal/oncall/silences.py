"""Silences through Alertmanager API v2: validate, preview, create, expire, list.

The portal refuses what Alertmanager would accept but nobody should want: no matchers, a
silence that matches every alert, one longer than the configured maximum, or one without
a justification. `createdBy` is always the signed-in user, never a form field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import re2
from sqlalchemy.orm import Session

from portal import events
from portal.db import utcnow
from portal.integrations.alertmanager import (
    Alert,
    AlertmanagerApi,
    Matcher,
    NewSilence,
    Silence,
)

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Label values an alert could carry; a matcher accepting all of them accepts any alert.
_PROBES = ("", "x", "prod", "api-gateway", "Z9_-.:/ ", "critical", "0")
STATES = ("active", "pending", "expired")


class SilenceError(ValueError):
    """A silence the portal refuses; the message says why, in the user's words."""


@dataclass(frozen=True)
class SilenceRequest:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str
    incident_id: int | None = None


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the reason is raised to the user, not logged to stderr
    return options


_RE2 = _re2_options()
# What Alertmanager's Go regexp refuses although the C++ RE2 library accepts it: `\C` (any
# byte) and the `(?<name>...)` spelling of named groups. The scan skips quoted text
# (\Q...\E), other escapes and character classes, where these spellings mean something else.
_GO_ONLY = re.compile(r"(\\C)|\\Q.*?(?:\\E|$)|\\.|\[(?:\\.|[^\]])*\]?|(\(\?<(?![=!]))",
                      re.DOTALL)


@lru_cache(maxsize=512)
def compile_regex(value: str):
    """A matcher's regex anchored as Alertmanager anchors it (the whole value must match),
    with RE2 semantics; raises SilenceError saying why it is invalid."""
    for found in _GO_ONLY.finditer(value):
        if found.group(1):
            raise SilenceError("\\C (any byte) is not supported by Alertmanager.")
        if found.group(2):
            raise SilenceError("Write named groups as (?P<name>...): Alertmanager does not "
                               "accept (?<name>...).")
    try:
        return re2.compile(f"^(?:{value})$", _RE2)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        reason = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise SilenceError(f"{reason} (Alertmanager uses RE2 syntax: no backreferences or "
                           "lookarounds).") from exc


def matches(matcher: Matcher, value: str) -> bool:
    """Whether a label value satisfies a matcher (regexes are anchored, as in Alertmanager)."""
    hit = (compile_regex(matcher.value).search(value) is not None if matcher.is_regex
           else matcher.value == value)
    return hit if matcher.is_equal else not hit


def matches_everything(matchers: tuple[Matcher, ...]) -> bool:
    """True when the matchers would silence any alert at all.

    Every matcher accepting the empty string (a missing label) and every probe value would
    silence all alerts; so would matchers on `alertname`, which every alert carries, that
    accept any non-empty name.
    """
    def universal(m: Matcher) -> bool:
        return all(matches(m, v) for v in _PROBES)

    def any_name(m: Matcher) -> bool:
        return m.name == "alertname" and all(matches(m, v) for v in _PROBES if v)

    return all(universal(m) or any_name(m) for m in matchers)


def validate(request: SilenceRequest, *, max_hours: int, now: datetime | None = None) -> None:
    """Raise SilenceError with a clear message when the silence must not be created."""
    now = now or utcnow()
    if not request.matchers:
        raise SilenceError("Add at least one matcher: a silence without matchers would "
                           "silence every alert.")
    for m in request.matchers:
        if not LABEL_NAME.match(m.name):
            raise SilenceError(f"{m.name!r} is not a valid label name (letters, digits and "
                               "underscores, not starting with a digit).")
        if m.is_regex:
            try:
                compile_regex(m.value)
            except SilenceError as exc:
                raise SilenceError(f"The regular expression for {m.name} is invalid: "
                                   f"{exc}") from None
    if matches_everything(request.matchers):
        raise SilenceError("These matchers would silence every alert. Narrow them down, "
                           "for example with alertname or service.")
    if all(matches(m, "") for m in request.matchers):
        raise SilenceError("Every matcher also matches alerts without that label; add one "
                           "that requires a value (Alertmanager refuses such silences).")
    if request.ends_at <= request.starts_at:
        raise SilenceError("The silence must end after it starts.")
    if request.ends_at <= now:
        raise SilenceError("The silence would already be over; choose a later end.")
    if request.ends_at - request.starts_at > timedelta(hours=max_hours):
        raise SilenceError(f"A silence may last at most {max_hours} hours; this one lasts "
                           f"{_hours(request.ends_at - request.starts_at)}.")
    if len(request.comment.strip()) < 10:
        raise SilenceError("Explain why in the justification (at least 10 characters): "
                           "the next on-call engineer reads it.")


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} hours"


def preview(*, client: AlertmanagerApi, matchers: tuple[Matcher, ...]) -> list[Alert]:
    """The current alerts the matchers select, as Alertmanager itself matches them."""
    return client.list_alerts(matchers)


def create(*, session: Session, client: AlertmanagerApi, request: SilenceRequest,
           actor_email: str, max_hours: int, now: datetime | None = None) -> str:
    """Validate and create the silence as `actor_email`; returns Alertmanager's id."""
    validate(request, max_hours=max_hours, now=now)
    silence_id = client.create_silence(NewSilence(
        request.matchers, request.starts_at, request.ends_at, actor_email,
        request.comment.strip()))
    events.silence_changed.send(
        session=session, silence_id=silence_id, action="created", actor_email=actor_email,
        matchers=[m.to_api() for m in request.matchers], comment=request.comment.strip(),
        incident_id=request.incident_id)
    return silence_id


def expire(*, session: Session, client: AlertmanagerApi, silence_id: str, actor_email: str,
           incident_id: int | None = None) -> Silence:
    """Expire a silence early; returns it as it was before."""
    silence = client.get_silence(silence_id)
    if silence.state == "expired":
        raise SilenceError("This silence has already expired.")
    client.expire_silence(silence_id)
    events.silence_changed.send(
        session=session, silence_id=silence_id, action="expired", actor_email=actor_email,
        matchers=[m.to_api() for m in silence.matchers], comment=silence.comment,
        incident_id=incident_id)
    return silence


def by_state(*, client: AlertmanagerApi) -> dict[str, list[Silence]]:
    """Silences grouped as active, pending and expired."""
    grouped: dict[str, list[Silence]] = {state: [] for state in STATES}
    for silence in client.list_silences():
        grouped.setdefault(silence.state, []).append(silence)
    return grouped
