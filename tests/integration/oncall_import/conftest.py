"""A Grafana OnCall with one layered Berlin schedule, shaped like its API documentation."""
import secrets

import pytest

from tests.integration.oncall_import.fake_grafana_oncall import FakeGrafanaOnCall

TOKEN = "meowmeowmeow-" + "0" * 8


def _user(n: int, team: list[str]) -> dict:
    return {"id": f"U{n}ALEX{n}", "grafana_id": 400 + n,
            "email": f"grafana-user-{n}@oncall-import.example",
            "slack": [], "username": f"user{n}", "role": "user", "timezone": "Europe/Berlin",
            "teams": team}


def oncall_data(suffix: str) -> dict:
    """Seven people, one team, a web schedule of six shifts plus an override (Berlin), a
    schedule of one shift the portal cannot express, an iCal schedule, one chain with four steps, an integration and two routes."""
    users = [_user(n, ["TI0C4X0XQEHGW"] if n <= 4 else []) for n in range(1, 8)]
    for u in users:
        u["email"] = u["email"].replace("@", f"-{suffix}@")
    shift = {"team_id": None, "time_zone": None, "level": 0, "week_start": "MO",
             "interval": 1, "by_day": None, "until": None, "by_month": None,
             "by_monthday": None, "start_rotation_from_user_index": None}
    shifts = [
        {**shift, "id": "OH1WEEKLY", "name": "Weekly primary", "type": "rolling_users",
         "start": "2026-02-02T09:00:00", "duration": 604800, "frequency": "weekly",
         "rolling_users": [["U1ALEX1"], ["U2ALEX2"], ["U3ALEX3"]]},
        {**shift, "id": "OH2NIGHTS", "name": "Weeknights", "type": "rolling_users",
         "level": 1, "start": "2026-02-02T18:00:00", "duration": 50400,
         "frequency": "daily", "by_day": ["MO", "TU", "WE", "TH", "FR"],
         "until": "2026-04-10T18:00:00", "rolling_users": [["U4ALEX4"], ["U5ALEX5"]]},
        {**shift, "id": "OH3WEEKEND", "name": "Weekends together", "type": "recurrent_event",
         "level": 2, "start": "2026-02-07T10:00:00", "duration": 28800,
         "frequency": "weekly", "interval": 2, "by_day": ["SA", "SU"],
         "users": ["U1ALEX1", "U6ALEX6"]},
        {**shift, "id": "OH4DST", "name": "DST night", "type": "single_event", "level": 3,
         "start": "2026-03-29T01:00:00", "duration": 14400, "users": ["U7ALEX7"]},
        {**shift, "id": "OH5MONTHLY", "name": "Monthly review", "type": "recurrent_event",
         "level": 4, "start": "2026-02-15T12:00:00", "duration": 7200,
         "frequency": "monthly", "users": ["U2ALEX2"]},
        {**shift, "id": "OH6HOURLY", "name": "Twelve-hour swap", "type": "rolling_users",
         "start": "2026-03-02T08:00:00", "duration": 43200, "frequency": "hourly",
         "interval": 12, "until": "2026-03-09T08:00:00",
         "rolling_users": [["U3ALEX3"], ["U5ALEX5"]]},
        {**shift, "id": "OH7OVERRIDE", "name": "Cover", "type": "override",
         "start": "2026-04-01T12:00:00", "duration": 21600, "users": ["U6ALEX6"]},
        {**shift, "id": "OH8BYMONTH", "name": "Quarterly", "type": "recurrent_event",
         "start": "2026-01-01T09:00:00", "duration": 3600, "frequency": "monthly",
         "by_month": [1, 4, 7, 10], "users": ["U1ALEX1"]},
    ]
    return {
        "users": users,
        "teams": [{"id": "TI0C4X0XQEHGW", "name": f"SRE {suffix}",
                   "email": "sre@oncall-import.example", "avatar_url": ""}],
        "schedules": [
            {"id": "SBM7DV7BKFUYU", "name": f"Primary {suffix}", "type": "web",
             "team_id": "TI0C4X0XQEHGW", "time_zone": "Europe/Berlin",
             "on_call_now": [], "shifts": [s["id"] for s in shifts[:-1]], "slack": None},
            {"id": "SQUARTERLY001", "name": f"Quarterly {suffix}", "type": "web",
             "team_id": None, "time_zone": "Europe/Berlin", "on_call_now": [],
             "shifts": ["OH8BYMONTH"], "slack": None},
            {"id": "SICAL00000001", "name": "Holidays", "type": "ical", "team_id": None,
             "ical_url_primary": "https://example.com/meow_calendar.ics",
             "ical_url_overrides": None, "on_call_now": [], "slack": None}],
        "on_call_shifts": shifts,
        "escalation_chains": [{"id": "FWDL7M6N6I9HE", "name": "default", "team_id": None}],
        "escalation_policies": [
            {"id": "E1", "escalation_chain_id": "FWDL7M6N6I9HE", "position": 0,
             "type": "notify_on_call_from_schedule", "important": False,
             "notify_on_call_from_schedule": "SBM7DV7BKFUYU"},
            {"id": "E2", "escalation_chain_id": "FWDL7M6N6I9HE", "position": 1,
             "type": "wait", "duration": 300},
            {"id": "E3", "escalation_chain_id": "FWDL7M6N6I9HE", "position": 2,
             "type": "notify_persons", "important": True, "persons_to_notify": ["U1ALEX1"]},
            {"id": "E4", "escalation_chain_id": "FWDL7M6N6I9HE", "position": 3,
             "type": "trigger_webhook", "action_to_trigger": "KGEFG74LU1D8L"}],
        "integrations": [{"id": "CFRPV98RPR1U8", "name": "Grafana :blush:", "type": "grafana",
                          "team_id": None, "link": "https://oncall.example/integrations/x/",
                          "default_route": {"id": "RVBE4RKQSCGJ2",
                                            "escalation_chain_id": "FWDL7M6N6I9HE"}}],
        "routes": [
            {"id": "RIYGUJXCPFHXY", "integration_id": "CFRPV98RPR1U8",
             "escalation_chain_id": "FWDL7M6N6I9HE", "routing_type": "regex",
             "routing_regex": "us-(east|west)", "position": 0, "is_the_last_route": False},
            {"id": "RJINJA2000001", "integration_id": "CFRPV98RPR1U8",
             "escalation_chain_id": None, "routing_type": "jinja2",
             "routing_regex": "{{ payload.severity == 'critical' }}", "position": 1,
             "is_the_last_route": False}],
    }


@pytest.fixture
def fake_oncall():
    """A running fake Grafana OnCall with fresh e-mail addresses, and its token."""
    with FakeGrafanaOnCall(oncall_data(secrets.token_hex(3)), token=TOKEN) as fake:
        yield fake
