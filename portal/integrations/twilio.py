"""Twilio's REST API (2010-04-01) for SMS and voice calls, and its webhook signatures.

- `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded To, From, Body
  (and StatusCallback when the portal takes delivery reports);
- `POST {base}/2010-04-01/Accounts/{AccountSid}/Calls.json`, form-encoded To, From and
  Twiml `<Response><Say>…</Say></Response>` (the message read out);
both with HTTP basic auth AccountSid:AuthToken, answering 201 with the resource as JSON
(`sid`, `status`), or an error body `{code, message, more_info, status}`.

The base URL is an operator setting, still it goes through `portal.security.outbound`:
resolved once, refused if internal unless allowlisted (OUTBOUND_ALLOWED_HOSTS), and the
connection goes to the vetted address, so DNS cannot swap in another one.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import urllib3

from portal.integrations.phone_base import Account, PhoneError
from portal.security import outbound

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
MAX_BODY = 1600  # characters of one SMS body (Twilio error 21617 above it)
MAX_TWIML = 4000  # characters of the Twiml parameter
# The provider refusing our account or credentials: the backup has its own.
ACCOUNT_REFUSED = (401, 403, 404)


def twiml_say(message: str) -> str:
    """TwiML reading `message` out once the call is answered (XML-escaped)."""
    return f"<Response><Say>{escape(message)}</Say></Response>"


class TwilioClient:
    """One Twilio (or Twilio-compatible) account, called over the vetted address."""

    def __init__(self, account: Account, *, timeout: float = 5.0,
                 allowlist: Iterable[str] = (), status_callback: str | None = None) -> None:
        self.account, self.timeout = account, timeout
        self.allowlist, self.status_callback = tuple(allowlist), status_callback

    @property
    def role(self) -> str:
        return self.account.role

    def send_sms(self, *, to: str, body: str) -> str:
        if len(body) > MAX_BODY:
            raise PhoneError(f"the SMS body is longer than {MAX_BODY} characters",
                             kind="rejected")
        fields = {"To": to, "From": self.account.sender, "Body": body}
        if self.status_callback:
            fields["StatusCallback"] = self.status_callback
        return self._create("Messages", fields)

    def call(self, *, to: str, message: str) -> str:
        twiml = twiml_say(message)
        if len(twiml) > MAX_TWIML:
            raise PhoneError(f"the call's message is longer than {MAX_TWIML} characters of "
                             "TwiML", kind="rejected")
        fields = {"To": to, "From": self.account.sender, "Twiml": twiml}
        if self.status_callback:
            fields["StatusCallback"] = self.status_callback
        return self._create("Calls", fields)

    def _create(self, resource: str, fields: dict[str, str]) -> str:
        account = self.account
        url = (f"{account.base_url}/{API_VERSION}/Accounts/"
               f"{quote(account.account_sid, safe='')}/{resource}.json")
        status, body = self._post(url, urlencode(fields).encode())
        answer = _json(body)
        if 200 <= status < 300:
            sid = answer.get("sid")
            if not isinstance(sid, str) or not 0 < len(sid) <= 64:
                raise PhoneError(f"{self._where()} answered HTTP {status} without a SID",
                                 kind="provider")
            return sid
        code = answer.get("code") if isinstance(answer.get("code"), int) else None
        reason = str(answer.get("message") or "")[:300]
        text = f"{self._where()} answered HTTP {status}" + (
            f" (error {code}: {reason})" if code or reason else "")
        if status == 429 or status >= 500:
            raise PhoneError(text, code=code)
        if status in ACCOUNT_REFUSED:
            raise PhoneError(text, kind="provider", code=code)
        raise PhoneError(text, kind="rejected", code=code)

    def _where(self) -> str:
        return f"the {self.account.role} phone provider"

    def _post(self, url: str, body: bytes) -> tuple[int, bytes]:
        try:
            target = outbound.vet(url, allowlist=self.allowlist)
        except outbound.OutboundError as exc:
            log.warning("phone provider %s refused: not an allowed address", url)
            raise PhoneError(f"{self._where()}'s address is refused by the outbound "
                             "checks (OUTBOUND_ALLOWED_HOSTS)", kind="provider") from exc
        credentials = f"{self.account.account_sid}:{self.account.auth_token}".encode()
        default_port = 443 if target.scheme == "https" else 80
        host = target.host if target.port == default_port else f"{target.host}:{target.port}"
        headers = {"Host": host, "Authorization": "Basic " + base64.b64encode(
                       credentials).decode(),
                   "Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "application/json"}
        pool: urllib3.HTTPConnectionPool
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(target.address, target.port,
                                               timeout=self.timeout, retries=False,
                                               server_hostname=target.host,
                                               assert_hostname=target.host)
        else:
            pool = urllib3.HTTPConnectionPool(target.address, target.port,
                                              timeout=self.timeout, retries=False)
        try:
            with pool:
                response = pool.urlopen("POST", target.path, body=body, headers=headers,
                                        redirect=False, retries=False)
        except urllib3.exceptions.HTTPError as exc:
            raise PhoneError(f"{self._where()} is unreachable: "
                             f"{type(exc).__name__}") from exc
        return response.status, response.data


def _json(body: bytes) -> dict:
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature: base64 of HMAC-SHA1, keyed with the auth token, of the
    full URL Twilio called followed by every POST parameter's name and value, sorted by
    name (case-sensitive; a repeated name's values in order too), without separators."""
    data = url + "".join(name + value for name, value in sorted(params))
    mac = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def valid_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]],
                    sent: str | None) -> bool:
    """Whether `sent` is the signature of this request (constant-time comparison)."""
    if not sent:
        return False
    return hmac.compare_digest(signature(auth_token, url, params).encode(), sent.encode())
