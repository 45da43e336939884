"""An Opsgenie account in the shapes of the API documentation's examples, for the importer's
tests: five people, two teams, a Europe/Berlin schedule whose rotations cover business
hours, nights (with a `none` slot, a team slot and an end date in the middle of a shift),
weekend days (12-hour shifts) and a Friday shadow that overlaps business hours, with
overrides across the spring daylight-saving change; a UTC two-week schedule; a disabled
schedule; two escalations and the teams' routing rules.
"""
from __future__ import annotations

import json

ALICE, BOB, CAROL = ("b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4", "e07c63f0-dd8c-4ad4-983e-4ee7dc600463",
                     "6f4c6c3e-3a4b-4a7c-9b6b-2f3a91c2d0a1")
DAVE, ERIN = "0b3c4a4e-5d6f-47a8-9b0c-1d2e3f4a5b6c", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
SRE, PAYMENTS = "8418d193-2dab-4490-b331-8c02cdd196b7", "2a6ee1d4-4f7e-4a0a-9e5d-3c1b2a0f9e8d"
OPS, PAY_SCHED, OLD = ("d875e654-9b4e-4219-a8c3-0c26936d18de",
                       "c1f3e2d4-7a6b-4c5d-8e9f-0a1b2c3d4e5f", "f0e1d2c3-b4a5-4968-8776-655443322110")
ESC_SRE, ESC_PAY = "9d2e6b0c-1a3f-4e5d-8c7b-6a5f4e3d2c1b", "4b3a2c1d-0e9f-4a8b-b7c6-d5e4f3a2b1c0"
R_BUSINESS, R_NIGHTS, R_WEEKEND, R_SHADOW = ("a1d0c4d4-1111-4b0e-9c4e-000000000001",
                                             "a1d0c4d4-1111-4b0e-9c4e-000000000002",
                                             "a1d0c4d4-1111-4b0e-9c4e-000000000003",
                                             "a1d0c4d4-1111-4b0e-9c4e-000000000004")
PEOPLE = {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave", ERIN: "erin"}


def _user(uid: str, role: str = "User", zone: str = "Europe/Berlin") -> dict:
    name = PEOPLE[uid]
    return {"blocked": False, "verified": True, "id": uid, "username": f"{name}@example.com",
            "fullName": name.capitalize() + " Example", "role": {"id": role, "name": role},
            "timeZone": zone, "locale": "en_US",
            "userAddress": {"country": "", "state": "", "city": "", "line": "", "zipCode": ""},
            "createdAt": "2026-05-12T08:34:40.756Z"}


def _who(kind: str, uid: str | None = None) -> dict:
    if kind == "user":
        return {"type": "user", "id": uid, "username": f"{PEOPLE[uid]}@example.com"}
    if kind == "team":
        return {"type": "team", "id": uid, "name": "payments"}
    return {"type": "none"}


def _day(day: str, start: int, end: int, end_day: str | None = None) -> dict:
    return {"startDay": day, "startHour": start, "startMin": 0, "endDay": end_day or day,
            "endHour": end, "endMin": 0}


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")

ACCOUNT = {
    "users": [_user(ALICE, "Admin"), _user(BOB), _user(CAROL), _user(DAVE, zone="UTC"),
              _user(ERIN, zone="America/New_York")],
    "teams": [
        {"id": SRE, "name": "sre", "description": "Site reliability",
         "members": [{"user": {"id": ALICE, "username": "alice@example.com"}, "role": "admin"},
                     {"user": {"id": BOB, "username": "bob@example.com"}, "role": "user"},
                     {"user": {"id": CAROL, "username": "carol@example.com"}, "role": "user"}]},
        {"id": PAYMENTS, "name": "payments", "description": "Payments",
         "members": [{"user": {"id": DAVE, "username": "dave@example.com"}, "role": "admin"},
                     {"user": {"id": ERIN, "username": "erin@example.com"}, "role": "user"}]},
    ],
    "schedules": [
        {"id": OPS, "name": "sre_schedule", "description": "", "timezone": "Europe/Berlin",
         "enabled": True, "ownerTeam": {"id": SRE, "name": "sre"}, "rotations": [
             {"id": R_BUSINESS, "name": "Business hours", "startDate": "2027-01-04T07:00:00Z",
              "type": "weekly", "length": 1,
              "participants": [_who("user", ALICE), _who("user", BOB)],
              "timeRestriction": {"type": "weekday-and-time-of-day",
                                  "restrictions": [_day(d, 8, 18) for d in WEEKDAYS]}},
             {"id": R_NIGHTS, "name": "Nights", "startDate": "2027-01-04T17:00:00Z",
              "endDate": "2027-04-20T00:00:00Z", "type": "daily", "length": 1,
              "participants": [_who("user", CAROL), _who("user", DAVE), _who("none"),
                               _who("team", PAYMENTS)],
              "timeRestriction": {"type": "time-of-day", "restriction": {
                  "startHour": 18, "startMin": 0, "endHour": 8, "endMin": 0}}},
             {"id": R_WEEKEND, "name": "Weekend days", "startDate": "2027-01-02T07:00:00Z",
              "type": "hourly", "length": 12,
              "participants": [_who("user", ERIN), _who("user", ALICE), _who("user", BOB)],
              "timeRestriction": {"type": "weekday-and-time-of-day", "restrictions": [
                  _day("saturday", 8, 18), _day("sunday", 8, 18)]}},
             {"id": R_SHADOW, "name": "Friday shadow", "startDate": "2027-01-01T11:00:00Z",
              "type": "weekly", "length": 1, "participants": [_who("user", DAVE)],
              "timeRestriction": {"type": "weekday-and-time-of-day",
                                  "restrictions": [_day("friday", 12, 18)]}},
         ]},
        {"id": PAY_SCHED, "name": "payments_schedule", "description": "", "timezone": "UTC",
         "enabled": True, "ownerTeam": {"id": PAYMENTS, "name": "payments"}, "rotations": [
             {"id": "b2e0d5e5-2222-4c1f-8d5f-000000000001", "name": "Fortnight",
              "startDate": "2027-01-06T09:00:00Z", "type": "weekly", "length": 2,
              "participants": [_who("user", DAVE), _who("user", ERIN)]}]},
        {"id": OLD, "name": "old_schedule", "description": "", "timezone": "UTC",
         "enabled": False, "rotations": []},
    ],
    "overrides": {OPS: [
        {"_parent": {"id": OPS, "name": "sre_schedule", "enabled": True}, "alias": "dst-cover",
         "user": {"type": "user", "id": BOB, "username": "bob@example.com"},
         "startDate": "2027-03-26T16:00:00Z", "endDate": "2027-03-29T06:00:00Z",
         "rotations": []},
        {"_parent": {"id": OPS, "name": "sre_schedule", "enabled": True}, "alias": "night-swap",
         "user": {"type": "user", "id": ERIN, "username": "erin@example.com"},
         "startDate": "2027-04-05T20:00:00Z", "endDate": "2027-04-06T04:00:00Z",
         "rotations": [{"id": R_NIGHTS, "name": "Nights"}]},
    ]},
    "escalations": [
        {"id": ESC_SRE, "name": "sre_escalation", "description": "",
         "ownerTeam": {"id": SRE, "name": "sre"}, "rules": [
             {"condition": "if-not-acked", "notifyType": "default",
              "delay": {"timeAmount": 0, "timeUnit": "minutes"},
              "recipient": {"type": "schedule", "id": OPS, "name": "sre_schedule"}},
             {"condition": "if-not-acked", "notifyType": "default",
              "delay": {"timeAmount": 5, "timeUnit": "minutes"},
              "recipient": {"type": "user", "id": ALICE, "username": "alice@example.com"}},
             {"condition": "if-not-acked", "notifyType": "admins",
              "delay": {"timeAmount": 15, "timeUnit": "minutes"},
              "recipient": {"type": "team", "id": SRE, "name": "sre"}},
             {"condition": "if-not-closed", "notifyType": "next",
              "delay": {"timeAmount": 30, "timeUnit": "minutes"},
              "recipient": {"type": "schedule", "id": OPS, "name": "sre_schedule"}}],
         "repeat": {"waitInterval": 10, "count": 2, "resetRecipientStates": False,
                    "closeAlertAfterAll": False}},
        {"id": ESC_PAY, "name": "payments_escalation", "description": "",
         "ownerTeam": {"id": PAYMENTS, "name": "payments"}, "rules": [
             {"condition": "if-not-acked", "notifyType": "all",
              "delay": {"timeAmount": 0, "timeUnit": "minutes"},
              "recipient": {"type": "team", "id": PAYMENTS, "name": "payments"}},
             {"condition": "if-not-acked", "notifyType": "default",
              "delay": {"timeAmount": 1, "timeUnit": "hours"},
              "recipient": {"type": "escalation", "id": ESC_SRE, "name": "sre_escalation"}}]},
    ],
    "routing_rules": {
        SRE: [
            {"id": "f1a1e1d1-0000-4000-8000-000000000001", "name": "P1 api", "isDefault": False,
             "order": 0, "timezone": "Europe/Berlin",
             "criteria": {"type": "match-all-conditions", "conditions": [
                 {"field": "extra-properties", "key": "service", "operation": "equals",
                  "expectedValue": "api", "not": False, "order": 0},
                 {"field": "priority", "operation": "equals", "expectedValue": "P1",
                  "not": False, "order": 1}]},
             "notify": {"type": "escalation", "id": ESC_SRE, "name": "sre_escalation"}},
            {"id": "f1a1e1d1-0000-4000-8000-000000000002", "name": "Office hours",
             "isDefault": False, "order": 1, "timezone": "Europe/Berlin",
             "criteria": {"type": "match-all"},
             "timeRestriction": {"type": "time-of-day", "restriction": {
                 "startHour": 9, "startMin": 0, "endHour": 17, "endMin": 0}},
             "notify": {"type": "schedule", "id": OPS, "name": "sre_schedule"}},
            {"id": "f1a1e1d1-0000-4000-8000-000000000003", "name": "Disk noise",
             "isDefault": False, "order": 2,
             "criteria": {"type": "match-any-condition", "conditions": [
                 {"field": "message", "operation": "contains", "expectedValue": "disk",
                  "not": False, "order": 0}]},
             "notify": {"type": "none"}},
            {"id": "f1a1e1d1-0000-4000-8000-000000000004", "name": "Default", "isDefault": True,
             "order": 3, "criteria": {"type": "match-all"},
             "notify": {"type": "schedule", "id": OPS, "name": "sre_schedule"}},
        ],
        PAYMENTS: [
            {"id": "f2b2e2d2-0000-4000-8000-000000000001", "name": "Prod or EU",
             "isDefault": False, "order": 0,
             "criteria": {"type": "match-any-condition", "conditions": [
                 {"field": "extra-properties", "key": "env", "operation": "equals",
                  "expectedValue": "prod", "not": False, "order": 0},
                 {"field": "extra-properties", "key": "region", "operation": "starts-with",
                  "expectedValue": "eu-", "not": False, "order": 1}]},
             "notify": {"type": "escalation", "id": ESC_PAY, "name": "payments_escalation"}},
            {"id": "f2b2e2d2-0000-4000-8000-000000000002", "name": "Default", "isDefault": True,
             "order": 1, "criteria": {"type": "match-all"},
             "notify": {"type": "escalation", "id": ESC_PAY, "name": "payments_escalation"}},
        ],
    },
}


def account(suffix: str = "") -> dict:
    """A fresh copy (tests may change it); `suffix` makes the e-mail addresses unique."""
    text = json.dumps(ACCOUNT)
    return json.loads(text.replace("@example.com", f"-{suffix}@example.com") if suffix
                      else text)
