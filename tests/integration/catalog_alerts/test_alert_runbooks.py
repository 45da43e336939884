"""Every alert of the catalogue links to a runbook page of the catalog that answers it,
every alert a runbook names has a rule, and the service page and the on-call board link
each alert to its runbook from one lookup whatever the number of alerts."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import yaml
from sqlalchemy import select

from portal import dev_alerting
from portal.catalog import alert_catalogue, runbooks
from portal.catalog.models import CatalogRunbook
from portal.db import utcnow
from portal.oncall.models import ReceivedAlert
from tests.integration.catalog_alerts.conftest import counting


def _all_rule_names() -> set[str]:
    names = set()
    for path in dev_alerting.rule_files(alert_catalogue.RULES_ROOT):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups") or []:
            names |= {r["alert"] for r in group.get("rules") or [] if "alert" in r}
    return names


def test_every_runbook_url_opens_a_catalog_runbook_that_answers_the_alert(client, session,
                                                                          login_as):
    """Every rule of every file in infra/prometheus/ (the catalogue's, the generated SLO
    rules, dead letters, security), not only the catalogue's."""
    login_as("oncall")
    names = alert_catalogue.rule_file_names()
    assert {"slo_rules.yml", "dlq_rules.yml", "security_rules.yml",
            *alert_catalogue.RULE_FILES} <= set(names)
    rules = alert_catalogue.load(names=names)
    assert {r.file for r in rules} == set(names)
    pages: dict[str, str] = {}
    for rule in rules:
        assert rule.runbook_slug, (rule.file, rule.name, rule.runbook_url)
        path = urlsplit(rule.runbook_url).path
        if path not in pages:
            response = client.get(path)
            assert response.status_code == 200, (rule.file, rule.name, rule.runbook_url)
            pages[path] = response.get_data(as_text=True)
        runbook = runbooks.get(session=session, slug=rule.runbook_slug)
        assert rule.name in runbook.alertnames, (rule.name, runbook.slug)
        assert runbook.title in pages[path]


def test_every_alert_a_runbook_names_has_a_rule(session):
    named = {name for alertnames in session.scalars(select(CatalogRunbook.alertnames))
             for name in alertnames or []}
    assert {"KubePodCrashLooping", "RabbitMQDLQGrowing", "CertificateExpiringSoon",
            "VaultSealed", "DatabaseReplicationLagHigh"} <= named
    assert sorted(named - _all_rule_names()) == []


def test_a_deleted_runbook_leaves_its_alert_url_dangling(client, session, login_as):
    login_as("oncall")
    session.delete(runbooks.get(session=session, slug="vault-sealed"))
    session.commit()
    (rule,) = [r for r in alert_catalogue.load() if r.name == "VaultSealed"]
    assert client.get(urlsplit(rule.runbook_url).path).status_code == 404


def test_the_service_page_lists_its_alerts_with_their_runbooks(client, login_as):
    login_as("developer")
    html = client.get("/catalog/services/order").get_data(as_text=True)
    section = html[html.index('id="service-alerts"'):]
    row = re.search(r'<tr data-alert="OrderServiceHighErrorRate">.*?</tr>', section, re.S)
    assert row and 'href="/catalog/runbooks/high-error-rate"' in row.group(0)
    row = re.search(r'<tr data-alert="OrderServiceDBPoolExhausted">.*?</tr>', section, re.S)
    assert row and 'href="/catalog/runbooks/database-connection-pool-saturation"' in row.group(0)
    row = re.search(r'<tr data-alert="OrderServiceHighMemory">.*?</tr>', section, re.S)
    assert row and "&lt;pod&gt; uses over 70% of its memory limit" in row.group(0)
    vault = client.get("/catalog/services/vault").get_data(as_text=True)
    assert re.search(r'data-alert="VaultSealed">.*?href="/catalog/runbooks/vault-sealed"',
                     vault, re.S)


def _received(session, alerts: list[tuple[str, str]], tag: str):
    now = utcnow()
    for i, (name, service) in enumerate(alerts):
        session.add(ReceivedAlert(
            fingerprint=f"{tag}{i:04d}", status="firing", severity="warning",
            labels={"alertname": name, "service": service, "severity": "warning"},
            annotations={"summary": f"{name} summary"}, starts_at=now, last_received_at=now))
    session.commit()


def _row(html: str, fingerprint: str) -> str:
    match = re.search(rf'<tr data-fingerprint="{fingerprint}".*?</tr>', html, re.S)
    assert match, fingerprint
    return match.group(0)


def test_the_oncall_board_links_each_alert_to_its_runbook(client, session, login_as):
    login_as("oncall")
    _received(session, [("KubePodCrashLooping", "order"), ("RabbitMQDLQGrowing", "rabbitmq"),
                        ("SomethingNobodyWroteUp", "order")], "rb")
    html = client.get("/oncall/alerts", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'href="/catalog/runbooks/pod-crashloopbackoff"' in _row(html, "rb0000")
    assert 'href="/catalog/runbooks/rabbitmq-queue-backup"' in _row(html, "rb0001")
    assert "/catalog/runbooks/" not in _row(html, "rb0002")
    page = client.get("/oncall/").get_data(as_text=True)
    assert 'href="/catalog/runbooks/pod-crashloopbackoff"' in _row(page, "rb0000")


def test_the_board_looks_runbooks_up_in_one_statement_whatever_the_alerts(client, session,
                                                                         login_as):
    login_as("oncall")
    names = sorted({r.name for r in alert_catalogue.load()})
    counts = []
    for tag, chosen in (("qa", names[:2]), ("qb", names[2:])):
        _received(session, [(name, "order") for name in chosen], tag)
        path = "/oncall/alerts?open=order/warning"
        assert client.get(path).status_code == 200
        with counting(session.connection()) as seen:
            html = client.get(path).get_data(as_text=True)
        counts.append(len(seen))
        assert html.count('class="runbook-link"') == (2 if tag == "qa" else len(names))
    assert counts[0] == counts[1], counts
