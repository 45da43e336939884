"""A local HTTP server standing in for Twilio's REST API 2010-04-01 (Twilio cannot run here).

It accepts only the documented requests the portal and the notification service make, and
answers anything else the way Twilio documents its errors:

- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` and `.../Calls.json` only, with the
  account's own SID in the path (another: 404, error 20404);
- HTTP basic auth `AccountSid:AuthToken` (missing or wrong: 401, error 20003);
- `Content-Type: application/x-www-form-urlencoded`, each parameter once, none but the
  documented ones we use: Messages To, From, Body, StatusCallback; Calls To, From, Twiml,
  StatusCallback (anything else fails the request with a 400 naming it);
- `To` and `From` in E.164 (`To` invalid: 400, error 21211, as Twilio answers; Twilio's
  documented test number +15005550001 is invalid too); `From` one of the account's numbers
  (else 400, error 21606); Body 1 to 1600 characters (21617 above); Twiml a
  `<Response>` document of at most 4000 characters whose one verb is `<Say>`; a
  StatusCallback an absolute http(s) URL (21609).

A good request gets 201 and the created resource as Twilio shapes it (`sid` SM…/CA… with 32
hex digits, `status` queued, account_sid, to, from, body, uri, ...). `script` queues forced
answers for the next requests: a status code (500, 503 or 429, with Twilio's error
body). Every request is recorded in
`requests` (resource, form fields, accepted), so tests assert on what reached the provider.
"""
from __future__ import annotations

import base64
import re
import secrets
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

from tests.httpserver import LocalHTTPServer, QuietHandler

PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json$")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
PARAMETERS = {"Messages": ({"To", "From", "Body"}, {"StatusCallback"}),
              "Calls": ({"To", "From", "Twiml"}, {"StatusCallback"})}
INVALID_TEST_NUMBER = "+15005550001"  # Twilio's magic number answering 21211
ERRORS = {20003: "Authenticate", 20404: "The requested resource was not found",
          20429: "Too Many Requests", 20500: "Internal Server Error",
          20503: "Service Unavailable", 21606: "The From phone number {value} is not a "
          "valid, SMS-capable inbound phone number or short code for your account.",
          21211: "The 'To' number {value} is not a valid phone number.",
          21617: "The concatenated message body exceeds the 1600 character limit.",
          21609: "Invalid StatusCallback url"}


def account_sid() -> str:
    return "AC" + secrets.token_hex(16)


def _error(code: int, status: int, value: str = "") -> dict:
    """Twilio's documented error body."""
    return {"code": code, "message": ERRORS[code].format(value=value),
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


class FakeTwilio:
    def __init__(self, sid: str | None = None, token: str | None = None,
                 numbers: tuple[str, ...] = ("+15017122661",)) -> None:
        self.sid, self.token = sid or account_sid(), token or secrets.token_hex(16)
        self.numbers = numbers
        self.script: list[int] = []
        self.requests: list[dict] = []
        self.server = LocalHTTPServer(self._handler())
        self.url = self.server.url

    def __enter__(self) -> FakeTwilio:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

    @property
    def accepted(self) -> list[dict]:
        """The requests that created a message or call."""
        return [r for r in self.requests if r["accepted"]]

    def _handler(self):
        fake = self

        class Handler(QuietHandler):
            def do_GET(self):
                self.reply(405, _error(20404, 405))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                record = {"path": self.path, "resource": None, "form": {}, "accepted": False}
                fake.requests.append(record)
                if fake.script:
                    forced = fake.script.pop(0)
                    code = {429: 20429, 503: 20503}.get(forced, 20500)
                    return self.reply(forced, _error(code, forced))
                status, body = fake._answer(self.path, self.headers, raw, record)
                self.reply(status, body)
        return Handler

    def _answer(self, path: str, headers, raw: str, record: dict) -> tuple[int, dict]:
        match = PATH.match(urlsplit(path).path)
        if match is None or match.group(1) != self.sid:
            return 404, _error(20404, 404)
        resource = record["resource"] = match.group(2)
        expected = "Basic " + base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, _error(20003, 401)
        if headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return 400, {"message": f"bad Content-Type {headers.get('Content-Type')!r}"}
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
        form = record["form"] = dict(pairs)
        required, optional = PARAMETERS[resource]
        if len(form) != len(pairs) or not required <= set(form) <= required | optional:
            return 400, {"message": f"unexpected parameters {sorted(k for k, _ in pairs)}"}
        if not E164.match(form["To"]) or form["To"] == INVALID_TEST_NUMBER:
            return 400, _error(21211, 400, form["To"])
        if form["From"] not in self.numbers:
            return 400, _error(21606, 400, form["From"])
        callback = form.get("StatusCallback")
        if callback is not None and urlsplit(callback).scheme not in ("http", "https"):
            return 400, _error(21609, 400)
        if resource == "Messages" and not 0 < len(form["Body"]) <= 1600:
            return 400, _error(21617, 400)
        if resource == "Calls":
            problem = _twiml_problem(form["Twiml"])
            if problem:
                return 400, {"message": problem}
        record["accepted"] = True
        return 201, self._resource(resource, form)

    def _resource(self, resource: str, form: dict) -> dict:
        prefix = "SM" if resource == "Messages" else "CA"
        sid = prefix + secrets.token_hex(16)
        created = "Thu, 24 Aug 2023 05:01:45 +0000"
        common = {"sid": sid, "account_sid": self.sid, "api_version": "2010-04-01",
                  "to": form["To"], "from": form["From"], "status": "queued",
                  "date_created": created, "date_updated": created,
                  "uri": f"/2010-04-01/Accounts/{self.sid}/{resource}/{sid}.json"}
        if resource == "Messages":
            return {**common, "body": form["Body"], "direction": "outbound-api",
                    "num_segments": "1", "num_media": "0", "error_code": None,
                    "error_message": None, "price": None, "price_unit": "USD",
                    "messaging_service_sid": None, "date_sent": None,
                    "subresource_uris": {"media": common["uri"][:-5] + "/Media.json"}}
        return {**common, "direction": "outbound-api", "duration": None, "price": None,
                "price_unit": "USD", "start_time": None, "end_time": None,
                "parent_call_sid": None, "phone_number_sid": None}


def _twiml_problem(twiml: str) -> str | None:
    if len(twiml) > 4000:
        return "Twiml longer than 4000 characters"
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError as exc:
        return f"Twiml is not XML: {exc}"
    if root.tag != "Response" or [child.tag for child in root] != ["Say"]:
        return "Twiml must be <Response><Say>...</Say></Response>"
    return None
