"""A local stand-in for Grafana OnCall's public HTTP API (v1), which cannot run here.

It CHECKS what the documentation asks of a client: `GET /api/v1/<collection>/` with the API
token as the bare `Authorization` header (401 otherwise), and it answers the documented
list shape {"count", "next", "previous", "results"} in pages of `page_size`, so a client
must follow `next` (absolute URLs, `?page=N`). Payloads are shaped like the documentation's
examples (users, teams, schedules, on_call_shifts, escalation_chains, escalation_policies,
integrations, routes).

`GET /api/v1/schedules/<id>/final_shifts?start_date=YYYY-MM-DD&end_date=YYYY-MM-DD` is
computed HERE, independently of the portal's code, by expanding every shift with
dateutil.rrule on naive local times (then placed in the shift's time zone) under these
simple documented semantics:
- an occurrence lasts `duration` seconds on the local wall clock;
- rolling_users: occurrence in period k (k = whole frequency×interval periods since the
  start; weeks counted from `week_start`) is held by rolling_users[k % len];
- recurrent_event and single_event put all their `users` on call;
- at each moment, active overrides win (their users together); otherwise the highest
  `level` with an active occurrence wins, its users together.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from dateutil import rrule

from tests.httpserver import LocalHTTPServer, QuietHandler

FREQ = {"hourly": rrule.HOURLY, "daily": rrule.DAILY, "weekly": rrule.WEEKLY,
        "monthly": rrule.MONTHLY}
DAYS = {"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH, "FR": rrule.FR,
        "SA": rrule.SA, "SU": rrule.SU}
WEEKDAY = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def _period(shift: dict, start: datetime, occ: datetime) -> int:
    interval = shift.get("interval") or 1
    freq = shift.get("frequency")
    if freq == "hourly":
        return int((occ - start).total_seconds() // 3600) // interval
    if freq == "daily":
        return (occ.date() - start.date()).days // interval
    if freq == "weekly":
        wkst = WEEKDAY[shift.get("week_start") or "MO"]

        def monday(d: date) -> date:
            return d - timedelta(days=(d.weekday() - wkst) % 7)
        return (monday(occ.date()) - monday(start.date())).days // 7 // interval
    return ((occ.year - start.year) * 12 + occ.month - start.month) // interval


def occurrences(shift: dict, zone: str, begin: datetime, end: datetime):
    """(start, end, users, level, is_override) of every occurrence near [begin, end)."""
    tz = ZoneInfo(shift.get("time_zone") or zone)
    start = datetime.fromisoformat(shift["start"])
    length = timedelta(seconds=shift["duration"])
    if shift["type"] in ("single_event", "override"):
        starts = [start]
    else:
        kwargs = {"dtstart": start, "interval": shift.get("interval") or 1,
                  "wkst": DAYS[shift.get("week_start") or "MO"]}
        if shift.get("by_day"):
            kwargs["byweekday"] = [DAYS[d] for d in shift["by_day"]]
        if shift.get("by_month"):
            kwargs["bymonth"] = shift["by_month"]
        if shift.get("by_monthday"):
            kwargs["bymonthday"] = shift["by_monthday"]
        if shift.get("until"):
            kwargs["until"] = datetime.fromisoformat(shift["until"])
        rule = rrule.rrule(FREQ[shift["frequency"]], **kwargs)
        lo = begin.astimezone(tz).replace(tzinfo=None) - length - timedelta(days=2)
        hi = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=2)
        starts = rule.between(lo, hi, inc=True)
    for occ in starts:
        if shift["type"] == "rolling_users":
            groups = shift["rolling_users"]
            users = groups[_period(shift, start, occ) % len(groups)]
        else:
            users = shift["users"]
        a = occ.replace(tzinfo=tz).astimezone(UTC)
        b = (occ + length).replace(tzinfo=tz).astimezone(UTC)
        yield a, b, list(users), shift.get("level") or 0, shift["type"] == "override"


def final_shifts(data: dict, schedule_id: str, begin: datetime, end: datetime) -> list[dict]:
    """Who is on call in [begin, end): one entry per person per stretch."""
    schedule = next(s for s in data["schedules"] if s["id"] == schedule_id)
    shifts = {s["id"]: s for s in data["on_call_shifts"]}
    events = [e for sid in schedule["shifts"]
              for e in occurrences(shifts[sid], schedule["time_zone"], begin, end)]
    cuts = sorted({begin, end} | {t for e in events for t in e[:2] if begin < t < end})
    users = {u["id"]: u for u in data["users"]}
    out = []
    for a, b in zip(cuts, cuts[1:]):
        active = [e for e in events if e[0] <= a and b <= e[1]]
        overrides = [e for e in active if e[4]]
        if overrides:
            chosen = overrides
        elif active:
            top = max(e[3] for e in active)
            chosen = [e for e in active if e[3] == top]
        else:
            continue
        for pk in sorted({u for e in chosen for u in e[2]}):
            out.append({"user_pk": pk, "user_email": users[pk]["email"],
                        "user_username": users[pk]["username"],
                        "shift_start": a.isoformat().replace("+00:00", "Z"),
                        "shift_end": b.isoformat().replace("+00:00", "Z")})
    return out


class FakeGrafanaOnCall:
    """Serve `data` ({collection: [objects]}) behind `token`; `requests` records each GET
    as (path, page, authorization)."""

    def __init__(self, data: dict[str, list[dict]], *, token: str, page_size: int = 2):
        self.data, self.token, self.page_size = data, token, page_size
        self.requests: list[tuple[str, int, str | None]] = []
        fake = self

        class Handler(QuietHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                page = int(query.get("page", ["1"])[0])
                fake.requests.append((parts.path, page, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != fake.token:
                    return self.reply(401, {"detail": "Invalid token."})
                segments = parts.path.strip("/").split("/")
                if segments[:2] != ["api", "v1"] or not parts.path.endswith("/"):
                    return self.reply(404, {"detail": "Not found."})
                if len(segments) == 5 and segments[2] == "schedules" \
                        and segments[4] == "final_shifts":
                    begin = datetime.fromisoformat(query["start_date"][0]).replace(tzinfo=UTC)
                    end = datetime.fromisoformat(query["end_date"][0]).replace(tzinfo=UTC)
                    results = final_shifts(fake.data, segments[3], begin,
                                           end + timedelta(days=1))
                    return self.reply(200, {"count": len(results), "next": None,
                                            "previous": None, "results": results})
                if len(segments) != 3 or segments[2] not in fake.data:
                    return self.reply(404, {"detail": "Not found."})
                items = fake.data[segments[2]]
                chunk = items[(page - 1) * fake.page_size: page * fake.page_size]
                more = page * fake.page_size < len(items)
                base = f"http://127.0.0.1:{self.server.server_port}{parts.path}"
                self.reply(200, {
                    "count": len(items), "page_size": fake.page_size,
                    "current_page_number": page,
                    "total_pages": max(1, -(-len(items) // fake.page_size)),
                    "next": f"{base}?page={page + 1}" if more else None,
                    "previous": f"{base}?page={page - 1}" if page > 1 else None,
                    "results": chunk})

        self.server = LocalHTTPServer(Handler)
        self.url = self.server.url

    def __enter__(self) -> FakeGrafanaOnCall:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()
