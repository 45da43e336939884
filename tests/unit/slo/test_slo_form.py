"""The SLO form's OpenSLO options: display name, rolling or calendar window, budgeting method
with time slices; validation with field messages, hostile input, and a round trip through
the OpenSLO export checked against the JSON Schema."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import select

from portal.slo.models import Slo
from tests.unit.slo.factories import make_service
from tests.unit.slo.test_openslo import schema_errors


@pytest.fixture
def service(session):
    made = make_service(session)
    session.commit()
    return made


def _form(service, **over):
    data = {"service": service.slug, "name": "checkout", "sli_kind": "ratio",
            "objective": "99.5", "window_kind": "rolling", "window_days": "28",
            "calendar_duration": "1M", "calendar_time_zone": "UTC", "calendar_start": "",
            "budgeting_method": "Occurrences", "time_slice_window": "", "slice_target_pct": "",
            "display_name": "", "owner": "me", "description": "",
            "good_query": 'http_requests_total{code="200"}',
            "total_query": "http_requests_total", "latency_threshold_ms": ""}
    return {**data, **over}


CALENDAR_SLICES = {"display_name": "Checkout, monthly", "window_kind": "calendar",
                   "calendar_duration": "1M", "calendar_time_zone": "Europe/Berlin",
                   "calendar_start": "2026-01-01 00:00", "budgeting_method": "Timeslices",
                   "time_slice_window": "5m", "slice_target_pct": "95"}


def _saved(session, service) -> Slo:
    session.expire_all()
    return session.scalar(select(Slo).where(Slo.service_id == service.id,
                                            Slo.name == "checkout"))


def test_create_a_calendar_time_slices_slo_and_export_it_within_the_schema(
        client, login_as, session, service):
    login_as("manager")
    response = client.post_form("/slo/new", _form(service, **CALENDAR_SLICES))
    assert response.status_code == 303
    slo = _saved(session, service)
    assert (slo.display_name, slo.budgeting_method, slo.time_slice_window,
            slo.time_slice_target) == ("Checkout, monthly", "Timeslices", "5m",
                                       Decimal("0.95"))
    assert (slo.window_duration, slo.calendar_time_zone, slo.calendar_start) == (
        "1M", "Europe/Berlin", datetime(2026, 1, 1))
    page = client.get(f"/slo/{slo.id}").get_data(as_text=True)
    assert "Time slices: 5-minute slices, a slice is good at ≥ 95 %" in page
    assert "calendar month in Europe/Berlin, started 1 " in page
    exported = client.get("/slo/openslo.yaml").get_data(as_text=True)
    assert schema_errors(exported) == []
    (doc,) = [d for d in yaml.safe_load_all(exported) if d["metadata"]["name"] == "checkout"]
    assert doc["metadata"]["displayName"] == "Checkout, monthly"
    assert doc["spec"]["budgetingMethod"] == "Timeslices"
    assert doc["spec"]["objectives"][0] | {} == {"target": 0.995, "timeSliceTarget": 0.95,
                                                 "timeSliceWindow": "5m"}
    assert doc["spec"]["timeWindow"] == [{"duration": "1M", "isRolling": False, "calendar": {
        "startTime": "2026-01-01 00:00:00", "timeZone": "Europe/Berlin"}}]
    # Importing the export again changes nothing.
    before = {c: getattr(slo, c) for c in ("display_name", "budgeting_method",
                                           "time_slice_window", "time_slice_target",
                                           "window_duration", "calendar_start",
                                           "calendar_time_zone", "window_days", "objective")}
    assert client.post_form("/slo/import", {"document": yaml.safe_dump(doc)}).status_code == 303
    slo = _saved(session, service)
    assert {c: getattr(slo, c) for c in before} == before


def test_edit_form_is_filled_and_switching_back_to_rolling_clears_the_calendar(
        client, login_as, session, service):
    login_as("developer")
    client.post_form("/slo/new", _form(service, **CALENDAR_SLICES))
    slo = _saved(session, service)
    page = client.get(f"/slo/{slo.id}/edit").get_data(as_text=True)
    for name, value in (("display_name", "Checkout, monthly"), ("calendar_duration", "1M"),
                        ("calendar_time_zone", "Europe/Berlin"),
                        ("calendar_start", "2026-01-01 00:00"), ("time_slice_window", "5m"),
                        ("slice_target_pct", "95")):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', page), name
    assert re.search(r'<option selected value="calendar">', page)
    assert re.search(r'<option selected value="Timeslices">', page)
    response = client.post_form(f"/slo/{slo.id}/edit", _form(service, window_days="14",
                                                             display_name="Checkout"))
    assert response.status_code == 303
    slo = _saved(session, service)
    assert (slo.window_days, slo.window_duration, slo.calendar_start, slo.calendar_time_zone,
            slo.budgeting_method, slo.time_slice_window, slo.time_slice_target,
            slo.display_name) == (14, None, None, None, "Occurrences", None, None, "Checkout")


def test_ratio_time_slices_need_no_target(client, login_as, session, service):
    login_as("developer")
    response = client.post_form("/slo/new", _form(service, budgeting_method="RatioTimeslices",
                                                  time_slice_window="10"))
    assert response.status_code == 303
    slo = _saved(session, service)
    assert (slo.time_slice_window, slo.time_slice_target) == ("10m", None)


@pytest.mark.parametrize("over,field,message", [
    ({"window_kind": "calendar", "calendar_time_zone": "Mars/Olympus"}, "calendar_time_zone",
     "IANA time zone"),
    ({"window_kind": "calendar", "calendar_time_zone": "localtime"}, "calendar_time_zone",
     "IANA time zone"),
    ({"window_kind": "calendar", "calendar_time_zone": "../../etc/passwd"},
     "calendar_time_zone", "IANA time zone"),
    ({"window_kind": "calendar", "calendar_duration": "2Y"}, "calendar_duration",
     "at most a year"),
    ({"window_kind": "calendar", "calendar_duration": "90m"}, "calendar_duration",
     "d, w, M, Q or Y"),
    ({"window_kind": "calendar", "calendar_duration": "month"}, "calendar_duration",
     "duration shorthand"),
    ({"window_kind": "calendar", "calendar_start": "9999-12-31"}, "calendar_start",
     "from 1970 to 2100"),
    ({"window_kind": "calendar", "calendar_start": "tomorrow"}, "calendar_start",
     "2026-01-01 00:00"),
    ({"window_kind": "rolling", "window_days": ""}, "window_days", "rolling window"),
    ({"window_days": "91"}, "window_days", "From 1 to 90"),
    ({"window_kind": "sideways"}, "window_kind", "Not a valid choice"),
    ({"budgeting_method": "Vibes"}, "budgeting_method", "Not a valid choice"),
    ({"budgeting_method": "Timeslices", "slice_target_pct": "95"}, "time_slice_window",
     "duration shorthand"),
    ({"budgeting_method": "Timeslices", "time_slice_window": "2w",
      "slice_target_pct": "95"}, "time_slice_window", "1 minute to 1 week"),
    ({"budgeting_method": "Timeslices", "time_slice_window": "1m"}, "slice_target_pct",
     "above 0 and at most 100"),
    ({"budgeting_method": "Timeslices", "time_slice_window": "1m", "slice_target_pct": "0"},
     "slice_target_pct", "above 0 and at most 100"),
    ({"budgeting_method": "Timeslices", "time_slice_window": "1m",
      "slice_target_pct": "95.1234567"}, "slice_target_pct", "up to 6 decimals"),
    ({"budgeting_method": "Timeslices", "time_slice_window": "1m",
      "slice_target_pct": "100.5"}, "slice_target_pct", "Between 0 and 100"),
    ({"display_name": "x" * 256}, "display_name", "At most 255"),
    ({"window_days": "٣٠"}, "window_days", "digits 0-9"),
    ({"objective": "٩٩"}, "objective", "digits 0-9"),
    ({"budgeting_method": "Timeslices", "time_slice_window": "1m",
      "slice_target_pct": "٩٥"}, "slice_target_pct", "digits 0-9"),
])
def test_invalid_options_give_422_with_the_field_message(client, login_as, session, service,
                                                         over, field, message):
    login_as("developer")
    response = client.post_form("/slo/new", _form(service, **over))
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    assert error and message in error.group(1), response.get_data(as_text=True)[-3000:]
    assert _saved(session, service) is None


@pytest.mark.parametrize("over", [
    {"display_name": "a\x00b"}, {"calendar_time_zone": "Europe/\x00Berlin",
                                 "window_kind": "calendar"},
    {"window_days": "9" * 5000},
    {"slice_target_pct": "NaN", "budgeting_method": "Timeslices", "time_slice_window": "1m"},
    {"slice_target_pct": "Infinity", "budgeting_method": "Timeslices",
     "time_slice_window": "1m"},
    {"slice_target_pct": "1e999999", "budgeting_method": "Timeslices",
     "time_slice_window": "1m"},
    {"slice_target_pct": "1e-999999", "budgeting_method": "Timeslices",
     "time_slice_window": "1m"},
    {"time_slice_window": "9" * 5000, "budgeting_method": "RatioTimeslices"},
    {"calendar_duration": "999999Y", "window_kind": "calendar"},
    {"calendar_time_zone": "Z" * 100_000, "window_kind": "calendar"},
    {"calendar_start": "0001-01-01 00:00", "window_kind": "calendar",
     "calendar_time_zone": "Pacific/Kiritimati"},
])
def test_hostile_input_gets_a_4xx_never_a_500(client, login_as, session, service, over):
    login_as("developer")
    response = client.post_form("/slo/new", _form(service, **over))
    assert 400 <= response.status_code < 500, response.status_code
