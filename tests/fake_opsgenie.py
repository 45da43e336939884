"""A local stand-in for Opsgenie's REST API v2 (read side), for the importer's tests.

It CHECKS what the documentation asks of a client and refuses anything else:
- every request is a GET with `Authorization: GenieKey <key>` (401 otherwise, with
  Opsgenie's error body shape `{"message", "took", "requestId"}`);
- only the documented paths and query parameters (`/v2/users?offset&limit` with limit at
  most 100, `/v2/teams`, `/v2/teams/{id}?identifierType=id`, `/v2/schedules?expand=rotation`,
  `/v2/schedules/{id}/overrides?scheduleIdentifierType=id`, `/v2/escalations`,
  `/v2/teams/{id}/routing-rules?teamIdentifierType=id`, `/v2/schedules/{id}/timeline`);
- lists of users come back in pages of `page_size` with absolute `paging.next` links, as
  Opsgenie sends them, so a client must follow them.
Answers are shaped like the documentation's examples (`data`, `took`, `requestId`, and
`expandable` where documented); rotations are only in a schedule when `expand=rotation` asks.

The timeline endpoint is the fidelity check: it expands the rotations here, independently
of the portal's code, with dateutil's rrule on the schedule time zone's wall clock (a
rotation's hand-offs recur at the local time of its `startDate`; `endDate` ends it),
clipped to its time restrictions, with overrides replacing the rotations they name (all
of them when none are named). Rotations add up: everyone on call in any rotation is on call.
"""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from dateutil import rrule

from tests.httpserver import LocalHTTPServer, QuietHandler

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FREQ = {"hourly": rrule.HOURLY, "daily": rrule.DAILY, "weekly": rrule.WEEKLY}
QUERY = {  # path pattern → allowed query parameters (value checks in `_refusal`)
    r"/v2/users": {"offset", "limit", "sort", "order", "query"},
    r"/v2/teams": set(),
    r"/v2/teams/[^/]+": {"identifierType"},
    r"/v2/teams/[^/]+/routing-rules": {"teamIdentifierType"},
    r"/v2/schedules": {"expand"},
    r"/v2/schedules/[^/]+/overrides": {"scheduleIdentifierType"},
    r"/v2/schedules/[^/]+/timeline": {"identifierType", "expand", "interval", "intervalUnit",
                                      "date"},
    r"/v2/escalations": set(),
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _aware(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _cut(spans: list[tuple[datetime, datetime]], holes: list[tuple[datetime, datetime]]):
    """`spans` minus `holes`."""
    for a, b in holes:
        spans = [piece for s, e in spans for piece in
                 ([(s, e)] if b <= s or e <= a else [(s, a), (b, e)]) if piece[0] < piece[1]]
    return spans


def _restriction_spans(restriction: dict | None, zone: ZoneInfo, start: datetime,
                       end: datetime) -> list[tuple[datetime, datetime]]:
    """When a rotation may be on call, as UTC spans covering [start, end)."""
    if not restriction:
        return [(start, end)]
    first = (start.astimezone(zone) - timedelta(days=8)).replace(tzinfo=None, hour=0, minute=0,
                                                                  second=0, microsecond=0)
    days = (end - start).days + 16
    spans = []
    if restriction["type"] == "time-of-day":
        r = restriction["restriction"]
        for d in range(days):
            day = first + timedelta(days=d)
            a = day.replace(hour=r["startHour"], minute=r["startMin"])
            b = day.replace(hour=r["endHour"], minute=r["endMin"])
            spans.append((a, b if b > a else b + timedelta(days=1)))
    else:
        monday = first - timedelta(days=first.weekday())
        for w in range(days // 7 + 2):
            week = monday + timedelta(weeks=w)
            for r in restriction["restrictions"]:
                a = week + timedelta(days=DAYS.index(r["startDay"]), hours=r["startHour"],
                                     minutes=r["startMin"])
                b = week + timedelta(days=DAYS.index(r["endDay"]), hours=r["endHour"],
                                     minutes=r["endMin"])
                spans.append((a, b if b > a else b + timedelta(weeks=1)))
    return [(_aware(a, zone), _aware(b, zone)) for a, b in spans]


def rotation_periods(rotation: dict, zone: ZoneInfo, start: datetime,
                     end: datetime) -> list[tuple[datetime, datetime, dict]]:
    """(from, to, participant) of one rotation over [start, end), restrictions applied."""
    local_start = _parse(rotation["startDate"]).astimezone(zone).replace(tzinfo=None)
    until = _parse(rotation["endDate"]) if rotation.get("endDate") else None
    rule = rrule.rrule(FREQ[rotation["type"]], interval=rotation.get("length", 1),
                       dtstart=local_start)
    participants = rotation["participants"]
    allowed = _restriction_spans(rotation.get("timeRestriction"), zone, start, end)
    out = []
    for n, (a, b) in enumerate(zip(rule, rule.xafter(local_start, inc=False))):
        begin, finish = _aware(a, zone), _aware(b, zone)
        if begin >= end or (until and begin >= until):
            break
        finish = min(finish, until) if until else finish
        if finish <= start or participants[n % len(participants)]["type"] == "none":
            continue
        for s, e in allowed:
            s, e = max(s, begin, start), min(e, finish, end)
            if s < e:
                out.append((s, e, participants[n % len(participants)]))
    return out


class FakeOpsgenie:
    """The fake server: `account` holds users, teams, schedules, overrides (by schedule id),
    escalations and routing rules (by team id) in the documented shapes."""

    def __init__(self, account: dict, *, key: str = "eb243592-faa2-4ba2-a551q-1afdf565c889",
                 page_size: int = 2):
        self.account, self.key, self.page_size = account, key, page_size
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.refused: list[str] = []
        self.throttle = 0  # answer this many next requests with 429, as Opsgenie's limits do
        self.server = LocalHTTPServer(self._handler())
        self.url = self.server.url

    def __enter__(self) -> FakeOpsgenie:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

    # -- the fidelity check ----------------------------------------------------------
    def timeline(self, schedule_id: str, start: datetime, end: datetime) -> dict:
        """finalTimeline of a schedule over [start, end), in the documented shape."""
        sched = next(s for s in self.account["schedules"] if s["id"] == schedule_id)
        zone = ZoneInfo(sched["timezone"])
        overrides = self.account["overrides"].get(schedule_id, [])
        rotations = []
        for order, rot in enumerate(sched["rotations"], start=1):
            covers = [(_parse(o["startDate"]), _parse(o["endDate"]), o) for o in overrides
                      if not o.get("rotations")
                      or rot["id"] in {r["id"] for r in o["rotations"]}]
            periods = []
            for a, b, who in rotation_periods(rot, zone, start, end):
                periods += [(s, e, who, "default")
                            for s, e in _cut([(a, b)], [(c[0], c[1]) for c in covers])]
            for a, b, o in covers:
                # A cover limited to rotations replaces them where they are on call; one
                # naming none covers its whole period.
                where = [(p[0], p[1]) for p in rotation_periods(rot, zone, start, end)] \
                    if o.get("rotations") else [(max(a, start), min(b, end))]
                periods += [(max(s, a), min(e, b), o["user"], "override") for s, e in where
                            if max(s, a) < min(e, b)]
            rotations.append({"id": rot["id"], "name": rot["name"], "order": float(order),
                              "periods": [{"startDate": iso(s), "endDate": iso(e), "type": t,
                                           "recipient": who} for s, e, who, t in
                                          sorted(periods, key=lambda p: p[0])]})
        return {"_parent": {"id": sched["id"], "name": sched["name"],
                            "enabled": sched.get("enabled", True)},
                "startDate": iso(start), "endDate": iso(end),
                "finalTimeline": {"rotations": rotations}}

    # -- the HTTP side -----------------------------------------------------------------
    def _refusal(self, method: str, path: str, query: dict,
                 authorization: str | None) -> tuple[int, str] | None:
        if method != "GET":
            return 405, f"{method} is not part of the read API used here"
        if authorization != f"GenieKey {self.key}":
            return 401, "Could not authenticate"
        allowed = next((v for p, v in QUERY.items() if re.fullmatch(p, path)), None)
        if allowed is None:
            return 404, f"no route {path}"
        if set(query) - allowed:
            return 422, f"unknown query parameters {sorted(set(query) - allowed)}"
        if path == "/v2/users" and not 0 < int(query.get("limit", ["20"])[0]) <= 100:
            return 422, "limit must be between 1 and 100"
        for name in ("identifierType", "teamIdentifierType", "scheduleIdentifierType"):
            if query.get(name, ["id"]) != ["id"]:
                return 422, f"{name} must be id here"
        return None

    def _answer(self, path: str, query: dict) -> tuple[int, dict]:
        acc, parts = self.account, path.strip("/").split("/")
        if path == "/v2/users":
            offset = int(query.get("offset", ["0"])[0])
            limit = min(int(query.get("limit", ["20"])[0]), self.page_size)
            body = {"data": acc["users"][offset:offset + limit],
                    "totalCount": len(acc["users"])}
            link = f"{self.url}/v2/users?limit={limit}&offset={{}}&order=ASC&sort=username"
            body["paging"] = {"first": link.format(0),
                              "last": link.format((len(acc["users"]) - 1) // limit * limit)}
            if offset + limit < len(acc["users"]):
                body["paging"]["next"] = link.format(offset + limit)
            return 200, body
        if path == "/v2/teams":
            return 200, {"data": [{k: t[k] for k in ("id", "name", "description")}
                                  for t in acc["teams"]], "expandable": ["member"]}
        if path == "/v2/schedules":
            expand = query.get("expand", [""])[0].split(",")
            return 200, {"data": [s if "rotation" in expand else
                                  {k: v for k, v in s.items() if k != "rotations"}
                                  for s in acc["schedules"]], "expandable": ["rotation"]}
        if path == "/v2/escalations":
            return 200, {"data": acc["escalations"]}
        if parts[:2] == ["v2", "teams"]:
            team = next((t for t in acc["teams"] if t["id"] == parts[2]), None)
            if team is None:
                return 404, {"message": "No team exists with id", "took": 0.0}
            if len(parts) == 3:
                return 200, {"data": team}
            return 200, {"data": acc["routing_rules"].get(team["id"], [])}
        sched = next((s for s in acc["schedules"] if s["id"] == parts[2]), None)
        if sched is None:
            return 404, {"message": "Schedule not found", "took": 0.0}
        if parts[3] == "overrides":
            return 200, {"data": acc["overrides"].get(sched["id"], [])}
        start = _parse(query["date"][0]) if "date" in query else datetime.now(UTC)
        unit = query.get("intervalUnit", ["weeks"])[0]
        span = {"days": 1, "weeks": 7, "months": 30}[unit] * int(query.get("interval", ["1"])[0])
        return 200, {"data": self.timeline(sched["id"], start, start + timedelta(days=span)),
                     "expandable": ["base", "forwarding", "override"]}

    def _handler(self):
        fake = self

        class Handler(QuietHandler):
            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query, keep_blank_values=True)
                fake.requests.append((url.path, query))
                if fake.throttle > 0:
                    fake.throttle -= 1
                    self.reply(429, {"message": "Too many requests", "took": 0.0,
                                     "requestId": str(uuid.uuid4())})
                    return
                refused = fake._refusal(method, url.path, query,
                                        self.headers.get("Authorization"))
                if refused is not None:
                    fake.refused.append(f"{method} {self.path}: {refused[1]}")
                    self.reply(refused[0], {"message": refused[1], "took": 0.0,
                                            "requestId": str(uuid.uuid4())})
                    return
                status, body = fake._answer(url.path, query)
                self.reply(status, {**body, "took": 0.021, "requestId": str(uuid.uuid4())})

        return Handler
