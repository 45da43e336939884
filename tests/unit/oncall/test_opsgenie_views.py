"""The import page's Opsgenie source: a manager picks the region and gives an API key, sees
the dry run (nothing written), applies it (audited); a wrong key, an unknown region and
hostile input answer 4xx with a message, never 500. The regions point at the local fake
Opsgenie (tests/fake_opsgenie.py), which is allowlisted as an outbound host."""
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.auth.models import AuditEntry, User
from portal.oncall.importing import opsgenie_client
from tests import opsgenie_account as og
from tests.fake_opsgenie import FakeOpsgenie
from tests.unit.test_security_inputs import hostile


@pytest.fixture
def fake(app, monkeypatch):
    with FakeOpsgenie(og.account(secrets.token_hex(3)), page_size=2) as server:
        monkeypatch.setitem(opsgenie_client.REGIONS, "eu", server.url)
        monkeypatch.setitem(opsgenie_client.REGIONS, "us", server.url + "/not-here")
        monkeypatch.setitem(app.config, "OUTBOUND_ALLOWED_HOSTS", ["127.0.0.1"])
        yield server


def _users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def test_only_managers_may_import(client, login_as, fake):
    login_as("oncall")
    assert client.get("/oncall/import").status_code == 403
    assert client.post_form("/oncall/import/dry-run", {
        "source": "opsgenie", "region": "eu", "api_key": fake.key}).status_code == 403
    assert fake.requests == []


def test_dry_run_then_apply(client, login_as, session, fake):
    login_as("manager")
    assert 'id="import-opsgenie-form"' in client.get("/oncall/import").get_data(as_text=True)
    before = _users(session)
    page = client.post_form("/oncall/import/dry-run", {
        "source": "opsgenie", "region": "eu", "api_key": fake.key})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and fake.refused == []
    assert "sre_schedule" in html and "Nights (slot 4 of 4)" in html
    assert "the schedule is disabled in Opsgenie" in html  # listed under "Not imported"
    assert _users(session) == before  # a dry run writes nothing
    assert fake.key not in html  # the key served this read only
    signed = html.split('name="plan" value="')[1].split('"')[0]
    applied = client.post_form("/oncall/import/apply", {"plan": signed})
    assert applied.status_code == 200 and "Imported" in applied.get_data(as_text=True)
    assert _users(session) == before + 5
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "oncall.import_apply", AuditEntry.target_id == "opsgenie")) == 1
    assert fake.key not in applied.get_data(as_text=True)


@pytest.mark.parametrize("form, message", [
    ({"region": "eu", "api_key": "not-the-key"}, "refused the API key"),
    ({"region": "us", "api_key": "KEY"}, "has no /not-here/v2/teams (HTTP 404)"),
    ({"region": "mars", "api_key": "whatever"}, "region of the Opsgenie account"),
    ({"region": "eu", "api_key": "zwei wörter"}, "Enter the Opsgenie API key"),
])
def test_bad_input_is_explained(client, login_as, fake, form, message):
    login_as("manager")
    form = {**form, "api_key": fake.key if form["api_key"] == "KEY" else form["api_key"]}
    page = client.post_form("/oncall/import/dry-run", {"source": "opsgenie", **form})
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)


@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(region=st.one_of(st.sampled_from(["us", "eu"]), hostile), api_key=hostile)
def test_hostile_opsgenie_input_gives_a_4xx_never_a_500(client, login_as, fake, region,
                                                        api_key):
    if client.get("/oncall/import").status_code != 200:
        login_as("manager")
    page = client.post_form("/oncall/import/dry-run", {
        "source": "opsgenie", "region": region, "api_key": api_key})
    assert page.status_code in (400, 413), (region, api_key, page.status_code)
