"""Phone and SMS for paging: one provider interface, and failover from the primary
provider to a backup.

`provider_from_config(config)` gives the configured provider (None when PHONE_PROVIDER_PRIMARY
is unset); callers only ever see `send_sms(to=, body=)` and `call(to=, message=)`, each
returning the provider's SID, or `PhoneError`. Twilio's REST API is the first provider
kind (`portal.integrations.twilio`); the base URL makes any Twilio-compatible API usable
as well, so the backup may be a second Twilio account or another vendor.

Failover, and why it is split this way:
- a transient failure (network error, timeout, HTTP 5xx or 429) is retried PHONE_RETRIES
  times, briefly, then the next provider is tried: a provider outage must not delay a page
  by more than a second or two;
- the provider refusing *us* (HTTP 401/403/404: revoked token, closed account, an address
  the outbound checks refuse) skips to the next provider at once: retrying cannot help, and
  the backup has its own account;
- an error about the message itself (an invalid number, Twilio 21211, or any other 4xx) is
  final: the backup would refuse it too, and trying only delays the error.
A POST that timed out may still have been delivered, so a retry can duplicate an SMS or a
call. For paging a duplicate is far better than a page that never arrives.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from portal.integrations import twilio
from portal.integrations.phone_base import Account, PhoneError

log = logging.getLogger(__name__)

ROLES = ("PRIMARY", "BACKUP")
# Same rule as the people's phone numbers in on-call profiles: + and 7 to 15 digits.
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
RETRY_DELAY = 0.25  # seconds before the first retry of a provider; doubled per retry
STATUS_PATH = "/integrations/twilio/status"


class PhoneProvider(Protocol):
    def send_sms(self, *, to: str, body: str) -> str:
        """Send one SMS; the provider's message SID."""

    def call(self, *, to: str, message: str) -> str:
        """Place one call that speaks `message`; the provider's call SID."""


class Receipt(str):
    """The provider's SID (a plain str to callers), and which provider took the request:
    `primary` or `backup`, so a failover is visible where the SID is recorded."""

    provider: str

    def __new__(cls, sid: str, provider: str) -> Receipt:
        receipt = super().__new__(cls, sid)
        receipt.provider = provider
        return receipt


def accounts(config: Mapping[str, Any]) -> list[Account]:
    """The configured providers in failover order; PhoneError naming a half-set provider."""
    found = []
    for role in ROLES:
        prefix = f"PHONE_PROVIDER_{role}"
        kind = config.get(prefix)
        if not kind:
            continue
        values: dict[str, Any] = {part: config.get(f"{prefix}_{part}") for part in
                                  ("URL", "ACCOUNT_SID", "AUTH_TOKEN", "FROM")}
        missing = [f"{prefix}_{part}" for part, value in values.items() if not value]
        if missing:
            raise PhoneError(f"{prefix} is set, but not {', '.join(missing)}",
                             kind="provider")
        if not E164.match(values["FROM"]):
            raise PhoneError(f"{prefix}_FROM must be an E.164 number such as +15017122661",
                             kind="provider")
        found.append(Account(role.lower(), kind, values["URL"].rstrip("/"),
                             values["ACCOUNT_SID"], values["AUTH_TOKEN"], values["FROM"]))
    if found and found[0].role != "primary":
        raise PhoneError("PHONE_PROVIDER_BACKUP is set without PHONE_PROVIDER_PRIMARY",
                         kind="provider")
    return found


def status_callback_url(config: Mapping[str, Any]) -> str:
    """Where providers POST delivery status (the exact URL their signatures cover)."""
    return str(config.get("PUBLIC_BASE_URL") or "").rstrip("/") + STATUS_PATH


def provider_from_config(config: Mapping[str, Any]) -> PhoneProvider | None:
    """The configured provider with failover, or None when PHONE_PROVIDER_PRIMARY is unset.

    Raises PhoneError when a provider is only half configured (a missing SID, token or
    number), so a mistake in the settings is reported instead of silently paging no one."""
    configured = accounts(config)
    if not configured:
        return None
    callback = status_callback_url(config) if config.get("PHONE_STATUS_CALLBACK") else None
    allowlist = tuple(config.get("OUTBOUND_ALLOWED_HOSTS") or ())
    timeout = float(config.get("PHONE_TIMEOUT") or 5.0)
    clients = [twilio.TwilioClient(account, timeout=timeout, allowlist=allowlist,
                                   status_callback=callback) for account in configured]
    return Failover(clients, retries=int(config.get("PHONE_RETRIES") or 0))


class Failover:
    """Tries each provider in order with the policy of the module docstring."""

    def __init__(self, providers: list, *, retries: int = 1,
                 delay: float = RETRY_DELAY) -> None:
        self.providers, self.retries, self.delay = providers, retries, delay

    def send_sms(self, *, to: str, body: str) -> str:
        _check_number(to)
        if not body.strip():
            raise PhoneError("the SMS body is empty", kind="rejected")
        return self._first(lambda provider: provider.send_sms(to=to, body=body), "SMS")

    def call(self, *, to: str, message: str) -> str:
        _check_number(to)
        if not message.strip():
            raise PhoneError("the call has nothing to say", kind="rejected")
        return self._first(lambda provider: provider.call(to=to, message=message), "call")

    def _first(self, attempt: Callable[[Any], str], what: str) -> Receipt:
        problems = []
        for n, provider in enumerate(self.providers):
            for retry in range(self.retries + 1):
                try:
                    sid = attempt(provider)
                except PhoneError as exc:
                    if exc.kind == "rejected":
                        raise
                    problems.append(f"{provider.role}: {exc}")
                    log.warning("phone %s through the %s provider failed (%s): %s", what,
                                provider.role, exc.kind, exc)
                    if exc.kind == "provider" or retry == self.retries:
                        break
                    time.sleep(self.delay * 2 ** retry)
                    continue
                if n:
                    log.warning("phone %s sent through the %s provider after: %s", what,
                                provider.role, "; ".join(problems))
                return Receipt(sid, provider.role)
        raise PhoneError(f"every phone provider failed: {'; '.join(problems)}")


def _check_number(to: str) -> None:
    if not isinstance(to, str) or not E164.match(to):
        raise PhoneError(f"{str(to)[:20]!r} is not an E.164 phone number (+ and 7 to 15 "
                         "digits)", kind="rejected")
