"""Silence matchers with Alertmanager's regex semantics: the portal's verdict on a regex
agrees with the real `amtool` (which parses and compiles the matchers of a config offline),
and a Unicode-class matcher becomes a working silence in a real Alertmanager."""
import subprocess

import pytest

from portal.integrations.alertmanager import AlertmanagerClient, Matcher
from portal.oncall.silences import SilenceError, compile_regex
from tests.integration.oncall.test_alertmanager import push, wait_for

pytestmark = pytest.mark.integration

ACCEPTED = [r"\p{Lu}.*", r"(?i)order-.*", r"\QC++\E", r"[[:alpha:]]+", r"(?P<n>a)b", "é+",
            "x{1000}", "a|b", r"\z", r"[(?<]", r"\\C", ""]
REFUSED = [r"(a)\1", "(a", r"\C", r"(?<n>a)", r"(?<=a)b", r"(?=a)", "a**", "a{1001}",
           r"\p{Foo}", r"\Z", "[z-a]", "x{2,1}"]


def amtool_accepts(tmp_path, value: str) -> bool:
    """`amtool check-config` on a config whose inhibit rule uses `alertname=~"value"`."""
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')  # the matcher string's escapes
    matcher = f'alertname=~"{quoted}"'.replace("'", "''")  # inside a YAML single-quoted scalar
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: portal\nreceivers:\n  - name: portal\n"
                      "inhibit_rules:\n  - source_matchers: ['severity=\"critical\"']\n"
                      f"    target_matchers: ['{matcher}']\n    equal: [service]\n",
                      encoding="utf-8")
    result = subprocess.run(["amtool", "check-config", str(config)], capture_output=True,
                            text=True, timeout=30)
    return result.returncode == 0


def portal_accepts(value: str) -> bool:
    try:
        compile_regex(value)
    except SilenceError:
        return False
    return True


@pytest.mark.parametrize("value", ACCEPTED + REFUSED)
def test_portal_and_amtool_agree_on_regex_matchers(tmp_path, value):
    assert portal_accepts(value) is (value in ACCEPTED)
    assert amtool_accepts(tmp_path, value) is (value in ACCEPTED)


@pytest.fixture
def am(alertmanager_url):
    return AlertmanagerClient(alertmanager_url, timeout=3)


@pytest.fixture
def portal(app, client, login_as, alertmanager_url):
    app.config["ALERTMANAGER_URL"] = alertmanager_url
    return login_as("oncall")


def silence_form(value):
    return {"matchers-0-name": "alertname", "matchers-0-operator": "=",
            "matchers-0-value": "CaseSensitiveAlert", "matchers-1-name": "service",
            "matchers-1-operator": "=~", "matchers-1-value": value,
            "duration": "1", "comment": "unicode class matcher check"}


def test_unicode_class_silence_is_created_and_silences_in_alertmanager(am, portal, client):
    push(am, "CaseSensitiveAlert", service="Ärger-service")
    push(am, "CaseSensitiveAlert", service="lower-service")
    assert client.post_form("/oncall/silences/", silence_form(r"\p{Lu}.*")).status_code == 303

    def state(service):
        [alert] = am.list_alerts((Matcher("alertname", "CaseSensitiveAlert"),
                                  Matcher("service", service)))
        return alert.state
    wait_for(lambda: state("Ärger-service") == "suppressed")
    assert state("lower-service") == "active"


def test_backreference_is_refused_with_a_422_and_the_reason(am, portal, client):
    before = len(am.list_silences())
    response = client.post_form("/oncall/silences/", silence_form(r"(a)\1"))
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The regular expression for service is invalid: invalid escape sequence" in text
    assert "no backreferences" in text
    assert len(am.list_silences()) == before
