"""Silences when alerting is not connected (`portal dev` without the Alertmanager binary):
a banner says why, the pages answer with the reason inside them (never a bare 503 page),
creating refuses in the form with a 4xx, and the preview never shows a count that create
would then contradict."""
import pytest

from tests.servers import closed_port

REASON = "prometheus-alertmanager not installed (run scripts/bootstrap.sh as root)."
FORM = {"matchers-0-name": "alertname", "matchers-0-operator": "=",
        "matchers-0-value": "ErrorBudgetBurn", "duration": "1",
        "comment": "order service deploy window"}


@pytest.fixture
def not_connected(app, login_as):
    app.config.update(ALERTMANAGER_URL=None, ALERTING_NOT_CONNECTED=REASON)
    return login_as("oncall")


def test_every_page_carries_the_banner_with_the_reason(client, not_connected):
    body = client.get("/oncall/").get_data(as_text=True)
    assert 'id="alerting-degraded"' in body
    assert f"Alerting is not connected:</strong> {REASON}" in body


def test_no_banner_when_alerting_is_connected_or_never_started(app, client, login_as):
    app.config.update(ALERTMANAGER_URL=None, ALERTING_NOT_CONNECTED=None)
    login_as("oncall")
    assert 'id="alerting-degraded"' not in client.get("/oncall/").get_data(as_text=True)


def test_the_silence_list_explains_instead_of_failing(client, not_connected):
    response = client.get("/oncall/silences/")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="silences-not-connected"' in body and REASON in body
    assert "Alertmanager is unreachable" not in body  # nothing is down; nothing is there


def test_the_form_says_up_front_that_nothing_can_be_created(client, not_connected):
    body = client.get("/oncall/silences/new").get_data(as_text=True)
    assert 'id="silence-error"' in body and "Alerting is not connected" in body
    assert 'id="silence-form"' in body


def test_create_refuses_inside_the_form_with_a_4xx(client, not_connected, session):
    response = client.post_form("/oncall/silences/", FORM)
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'id="silence-form"' in body and 'value="ErrorBudgetBurn"' in body  # kept input
    assert "Alerting is not connected" in body and "Nothing was created" in body


def test_the_preview_shows_the_error_not_a_count(client, not_connected):
    response = client.htmx("GET", "/oncall/silences/preview", query_string=FORM)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="preview-error"' in body
    assert "Alerting is not connected" in body and "would be silenced" not in body


def test_expire_refuses_with_a_4xx(client, not_connected):
    response = client.post_form("/oncall/silences/0123abcd/expire")
    assert response.status_code == 409
    assert "Alerting is not connected" in response.get_data(as_text=True)


@pytest.mark.parametrize("matchers, message", [
    ({"matchers-0-name": "job", "matchers-0-operator": "=", "matchers-0-value": "",
      "matchers-1-name": "severity", "matchers-1-operator": "=~", "matchers-1-value": "x|"},
     "matches alerts without that label"),
    ({"matchers-0-name": "1bad", "matchers-0-value": "x"}, "not a valid label name"),
    ({"matchers-0-name": "service", "matchers-0-operator": "=~", "matchers-0-value": "("},
     "regular expression for service is invalid"),
])
def test_the_preview_refuses_what_create_refuses(app, client, login_as, matchers, message):
    # A dead Alertmanager: the matcher rules answer before any call would be made.
    app.config.update(ALERTMANAGER_URL=f"http://127.0.0.1:{closed_port()}",
                      ALERTMANAGER_TIMEOUT=0.5)
    login_as("oncall")
    preview = client.htmx("GET", "/oncall/silences/preview", query_string=matchers)
    assert message in preview.get_data(as_text=True)
    created = client.post_form("/oncall/silences/", {**FORM, **matchers})
    assert created.status_code == 422 and message in created.get_data(as_text=True)
