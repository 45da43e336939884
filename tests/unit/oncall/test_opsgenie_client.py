"""The Opsgenie client against the local fake Opsgenie (tests/fake_opsgenie.py), which
checks the documented requests: GenieKey auth, paths, identifier-type parameters, paging.
Addresses go through the outbound guard, so the loopback fake must be allowlisted."""
from datetime import UTC, datetime

import pytest

from portal.oncall.importing.opsgenie_client import REGIONS, OpsgenieClient, OpsgenieError
from portal.oncall.importing.opsgenie_import import plan_from, read_opsgenie
from portal.security import outbound
from tests import opsgenie_account as og
from tests.fake_opsgenie import FakeOpsgenie

NOW = datetime(2027, 3, 1, tzinfo=UTC)
LOOPBACK = ("127.0.0.1",)


@pytest.fixture
def fake():
    with FakeOpsgenie(og.account(), page_size=2) as server:
        yield server


def test_reading_an_account_sends_only_documented_requests(fake):
    plan = read_opsgenie(base_url=fake.url, api_key=fake.key, allowlist=LOOPBACK, now=NOW)
    acc = og.account()
    assert plan == plan_from(users=acc["users"], teams=acc["teams"],
                             schedules=acc["schedules"], overrides=acc["overrides"],
                             escalations=acc["escalations"],
                             routing_rules=acc["routing_rules"], now=NOW)
    assert fake.refused == []  # every request had the key, a known path and known params
    users = [q for path, q in fake.requests if path == "/v2/users"]
    assert [(q["offset"], q["limit"]) for q in users] == [
        (["0"], ["100"]), (["2"], ["2"]), (["4"], ["2"])]  # three pages via paging.next
    paths = [path for path, _ in fake.requests]
    assert paths.count("/v2/schedules") == 1 and ("/v2/schedules", {"expand": ["rotation"]}) \
        in fake.requests
    assert {p for p in paths if p.startswith("/v2/teams/")} == {
        f"/v2/teams/{og.SRE}", f"/v2/teams/{og.PAYMENTS}",
        f"/v2/teams/{og.SRE}/routing-rules", f"/v2/teams/{og.PAYMENTS}/routing-rules"}
    # Overrides of the enabled schedules only; nothing asks for the disabled one.
    assert {p for p in paths if p.endswith("/overrides")} == {
        f"/v2/schedules/{og.OPS}/overrides", f"/v2/schedules/{og.PAY_SCHED}/overrides"}
    assert not any(og.OLD in p for p in paths)


def test_a_wrong_key_is_explained(fake):
    with pytest.raises(OpsgenieError, match="refused the API key") as excinfo:
        read_opsgenie(base_url=fake.url, api_key="not-the-key", allowlist=LOOPBACK)
    assert "HTTP 401" in str(excinfo.value)
    assert fake.refused and "Could not authenticate" in fake.refused[0]


def test_an_internal_address_is_refused_before_any_request(fake):
    with pytest.raises(OpsgenieError, match="could not be reached"):
        read_opsgenie(base_url=fake.url, api_key=fake.key)  # loopback, not allowlisted
    assert fake.requests == []


def test_a_paging_link_to_another_host_is_not_followed(fake):
    fake.url = "http://127.0.0.2:9"  # the fake now builds its `paging.next` links there
    client = OpsgenieClient(base_url=f"http://127.0.0.1:{fake.server.port}", api_key=fake.key,
                            allowlist=("127.0.0.0/8",))
    with pytest.raises(OpsgenieError, match="another address"):
        client.users()
    assert len(fake.requests) == 1


def test_rate_limited_requests_are_retried_with_backoff(fake):
    waits = []
    fake.throttle = 2
    client = OpsgenieClient(base_url=fake.url, api_key=fake.key, allowlist=LOOPBACK,
                            sleep=waits.append)
    assert [e["name"] for e in client.escalations()] == ["sre_escalation",
                                                         "payments_escalation"]
    assert waits == [1, 2] and client.calls == 3
    fake.throttle = 10
    with pytest.raises(OpsgenieError, match="too many requests"):
        client.escalations()


@pytest.mark.parametrize("base_url,key,message", [
    ("ftp://api.opsgenie.com", "k", "https://"), ("api.opsgenie.com", "k", "https://"),
    (REGIONS["eu"], "  ", "API key"), (REGIONS["us"], "two words", "API key")])
def test_bad_settings_are_refused_with_a_message(base_url, key, message):
    with pytest.raises(OpsgenieError, match=message):
        OpsgenieClient(base_url=base_url, api_key=key)


def test_the_regions_are_the_documented_hosts():
    assert REGIONS == {"us": "https://api.opsgenie.com", "eu": "https://api.eu.opsgenie.com"}


def test_an_oversized_or_missing_answer_is_explained(fake, monkeypatch):
    client = OpsgenieClient(base_url=fake.url, api_key=fake.key, allowlist=LOOPBACK)
    monkeypatch.setattr(outbound, "MAX_GET_BYTES", 200)  # the first page of users is larger
    with pytest.raises(OpsgenieError, match="did not answer usably"):
        client.users()
    fake.server.stop()
    monkeypatch.undo()
    with pytest.raises(OpsgenieError, match="did not answer usably"):
        client.escalations()


def test_an_answer_of_an_unexpected_shape_is_explained(fake):
    fake.account["escalations"][0]["rules"][1]["delay"]["timeAmount"] = "soon"
    with pytest.raises(OpsgenieError, match="unexpected shape"):
        read_opsgenie(base_url=fake.url, api_key=fake.key, allowlist=LOOPBACK, now=NOW)
