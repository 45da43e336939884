"""The SMS channel: Twilio's Messages API (or a Twilio-compatible one) at a primary
provider, failing over to a backup.

`POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded To, From and
Body, HTTP basic auth AccountSid:AuthToken; 201 with the message (`sid`, `status`) or an
error body `{code, message, more_info, status}`. The provider URLs go through
common/outbound.py like webhooks (vetted address, no redirects, OUTBOUND_ALLOWED_HOSTS).

Failover, as for the SMTP relays:
- a transient failure (network error, timeout, HTTP 5xx or 429) is retried SMS_RETRIES
  times, briefly, then the backup is tried;
- the provider refusing our account (HTTP 401/403/404) or its address skips to the backup
  at once (retrying cannot help; the backup has its own account);
- an error about the message itself (an invalid number, Twilio 21211, any other 4xx) is
  final: the backup would refuse it too.
A timed-out POST may have been delivered all the same, so a retry can send an SMS twice;
for an alert, twice beats never.
"""
from __future__ import annotations

import base64
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import urllib3

from platform_services.common import outbound
from platform_services.notification.channels import DeliveryFailed
from platform_services.notification.settings import NotificationSettings

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
MAX_BODY = 1600  # characters of one SMS (Twilio error 21617 above)
RETRY_DELAY = 0.25  # seconds before the first retry; doubled per retry
ACCOUNT_REFUSED = (401, 403, 404)


class SmsRefused(DeliveryFailed):
    """The provider refused the message itself (e.g. an invalid number): final."""


class _Transient(Exception):
    pass


class _NextProvider(Exception):
    pass


@dataclass(frozen=True)
class Provider:
    role: str  # primary | backup
    url: str
    account_sid: str
    auth_token: str
    sender: str

    def __repr__(self) -> str:  # never print the token
        return f"Provider({self.role}, {self.url}, {self.account_sid})"

    @property
    def relay(self) -> str:
        """How the notification log names this provider: role and host."""
        return f"{self.role}:{urlsplit(self.url).netloc}"


def providers(settings: NotificationSettings) -> list[Provider]:
    """The configured providers in failover order (a provider needs all four settings)."""
    found = []
    for role in ("primary", "backup"):
        values = [getattr(settings, f"sms_{role}_{part}")
                  for part in ("url", "account_sid", "auth_token", "from")]
        if all(values):
            found.append(Provider(role, values[0].rstrip("/"), *values[1:]))
    return found


class SmsProviders:
    """Sends through the first provider that takes the message."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self.providers = providers(settings)

    def send(self, *, to: str, body: str) -> str:
        """Send one SMS; the relay that took it, `<role>:<host>/<message sid>`."""
        if not self.providers:
            raise DeliveryFailed("no SMS provider configured (SMS_PRIMARY_ACCOUNT_SID, "
                                 "SMS_PRIMARY_AUTH_TOKEN, SMS_PRIMARY_FROM)")
        if len(body) > MAX_BODY:
            raise SmsRefused(f"the SMS body is longer than {MAX_BODY} characters")
        problems: list[str] = []
        for n, provider in enumerate(self.providers):
            for retry in range(self.settings.sms_retries + 1):
                try:
                    sid = self._post(provider, to, body)
                except _Transient as exc:
                    problems.append(f"{provider.relay}: {exc}")
                    if retry < self.settings.sms_retries:
                        time.sleep(RETRY_DELAY * 2 ** retry)
                    continue
                except _NextProvider as exc:
                    problems.append(f"{provider.relay}: {exc}")
                    break
                if problems:
                    log.warning("SMS sent through %s after: %s", provider.relay,
                                "; ".join(problems))
                return f"{provider.relay}/{sid}"
            if n + 1 < len(self.providers):
                log.warning("SMS provider failed, trying the next: %s", problems[-1])
        raise DeliveryFailed("every SMS provider failed: " + "; ".join(problems))

    def _post(self, provider: Provider, to: str, body: str) -> str:
        url = (f"{provider.url}/{API_VERSION}/Accounts/{quote(provider.account_sid, safe='')}"
               "/Messages.json")
        try:
            target = outbound.vet(url, allowlist=self.settings.outbound_allowed_hosts)
        except outbound.Refused as exc:
            raise _NextProvider("address refused (OUTBOUND_ALLOWED_HOSTS)") from exc
        status, answer = _post_form(target, provider, {"To": to, "From": provider.sender,
                                                       "Body": body},
                                    timeout=self.settings.sms_timeout)
        if 200 <= status < 300:
            sid = answer.get("sid")
            if not isinstance(sid, str) or not 0 < len(sid) <= 64:
                raise _NextProvider(f"HTTP {status} without a message sid")
            return sid
        code, reason = answer.get("code"), str(answer.get("message") or "")[:300]
        text = f"HTTP {status}" + (f" (error {code}: {reason})" if code or reason else "")
        if status == 429 or status >= 500:
            raise _Transient(text)
        if status in ACCOUNT_REFUSED:
            raise _NextProvider(text)
        raise SmsRefused(f"{provider.relay} refused the message: {text}")


def _post_form(target: outbound.Target, provider: Provider, fields: dict[str, str], *,
               timeout: float) -> tuple[int, dict]:
    """POST the form to the vetted address; the status and the JSON body ({} if none)."""
    credentials = base64.b64encode(f"{provider.account_sid}:{provider.auth_token}".encode())
    default_port = 443 if target.scheme == "https" else 80
    name = f"[{target.host}]" if ":" in target.host else target.host
    headers = {"Host": name if target.port == default_port else f"{name}:{target.port}",
               "Authorization": "Basic " + credentials.decode(),
               "Content-Type": "application/x-www-form-urlencoded",
               "Accept": "application/json"}
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, timeout=timeout,
                                           retries=False, server_hostname=target.host,
                                           assert_hostname=target.host)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout,
                                          retries=False)
    try:
        with pool:
            response = pool.urlopen("POST", target.path, body=urlencode(fields).encode(),
                                    headers=headers, redirect=False, retries=False)
    except urllib3.exceptions.HTTPError as exc:
        raise _Transient(f"unreachable: {type(exc).__name__}") from exc
    try:
        answer = json.loads(response.data or b"{}")
    except ValueError:
        answer = {}
    return response.status, answer if isinstance(answer, dict) else {}
