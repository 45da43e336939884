"""The disaster-recovery table: the page of every scenario with RPO and RTO (read from the
catalog's data file portal/catalog/data/dr_scenarios.yaml), the panel on the service pages,
its runbooks, catalog access rules, and one query for the whole table."""
import re
from html import escape

import pytest
import yaml
from sqlalchemy import event as sa_event

from portal.catalog import dr, runbooks


def rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr id="dr-[a-z0-9-]+" data-scenario="([a-z0-9-]+)">(.*?)</tr>',
                           html, re.S))


def test_the_dr_page_lists_every_scenario_with_rpo_rto_and_runbook(seeded, client, login_as):
    login_as("oncall")
    response = client.get("/catalog/dr")
    assert response.status_code == 200
    found = rows(response.get_data(as_text=True))
    assert list(found) == [s.slug for s in dr.SCENARIOS]
    region = found["prod-cluster-loss"]
    assert '<td class="dr-rpo">&lt; 1 minute (PostgreSQL WAL streaming to the DR replica)</td>' \
        in region
    assert '<td class="dr-rto">&lt; 15 minutes (DNS failover + DB replica promotion + service ' \
        'verification)</td>' in region
    assert 'href="/catalog/runbooks/dr-prod-cluster-loss"' in region
    # Affected entries link to their catalog pages, by name.
    assert '<a href="/catalog/services/order">Order Service</a>' in region
    assert "Elasticsearch cluster red" in found["search-index-loss"] or \
        "index lost" in found["search-index-loss"]
    assert "&lt; 1 hour" in found["search-index-loss"]
    assert "lost (RabbitMQ is not replicated to DR)" in found["rabbitmq-dr-failover"]


def test_a_missing_runbook_shows_as_missing_not_as_a_broken_link(seeded, client, login_as):
    runbook = runbooks.get(session=seeded, slug="dr-redis-loss")
    seeded.delete(runbook)
    seeded.flush()
    login_as("developer")
    found = rows(client.get("/catalog/dr").get_data(as_text=True))
    assert "no runbook" in found["redis-loss"] and "/catalog/runbooks/" not in found["redis-loss"]
    assert "/catalog/runbooks/dr-bad-release" in found["bad-release"]


def test_the_seeded_runbook_carries_the_objectives_and_the_steps(seeded, client, login_as):
    login_as("developer")
    body = client.get("/catalog/runbooks/dr-prod-cluster-loss").get_data(as_text=True)
    assert "Promote the PostgreSQL cross-region replica" in body
    assert "RPO: &lt; 1 minute" in body or "RPO: < 1 minute" in body


def test_a_service_page_shows_the_scenarios_that_affect_it(seeded, client, login_as):
    login_as("developer")
    html = client.get("/catalog/services/search").get_data(as_text=True)
    section = html.split('id="service-dr"')[1].split("</section>")[0]
    assert re.findall(r'data-scenario="([a-z-]+)"', section) == [
        "prod-cluster-loss", "postgresql-primary-failure", "rabbitmq-dr-failover",
        "bad-release", "search-index-loss"]
    assert "&lt; 1 hour (a full reindex from PostgreSQL takes about 45 minutes)" in section
    assert 'href="/catalog/dr#dr-search-index-loss"' in section
    # An entry no scenario names says so.
    html = client.get("/catalog/services/grafana").get_data(as_text=True)
    assert "No DR scenario lists this entry." in html.split('id="service-dr"')[1]


@pytest.mark.parametrize("role, status", [("developer", 200), ("oncall", 200),
                                          ("manager", 200), ("admin", 200),
                                          ("tenant_viewer", 403)])
def test_dr_page_follows_the_catalog_access_rules(seeded, client, login_as, role, status):
    login_as(role)
    assert client.get("/catalog/dr").status_code == status
    assert client.get("/catalog/services/order").status_code == status


def test_the_whole_table_is_one_query(seeded, connection):
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    sa_event.listen(connection, "before_cursor_execute", listener)
    try:
        table = dr.table(session=seeded)
    finally:
        sa_event.remove(connection, "before_cursor_execute", listener)
    # (The test's rolled-back transaction adds SAVEPOINTs; they are not the page's queries.)
    assert len([q for q in seen if not q.startswith(("SAVEPOINT", "RELEASE"))]) == 1
    assert table.names["postgresql"] and table.names["s3"]
    assert set(table.runbooks) == {s.runbook_slug for s in dr.SCENARIOS}
    # Every entry a scenario names is in the catalog.
    assert {slug for s in dr.SCENARIOS for slug in s.affected} == set(table.names)


def test_hostile_query_strings_do_not_break_the_page(seeded, client, login_as):
    login_as("developer")
    # The page takes no parameters: stray ones are ignored, a NUL byte refused outright.
    assert client.get("/catalog/dr?y=" + "9" * 5000).status_code == 200
    assert client.get("/catalog/dr?x=%00").status_code == 400
    assert client.get("/catalog/services/%00").status_code == 400


def test_the_page_shows_the_scenarios_of_the_data_file(seeded, client, login_as, tmp_path,
                                                        monkeypatch):
    """Read here with plain PyYAML, independently of portal/catalog/dr.py."""
    listed = yaml.safe_load(dr.SCENARIOS_FILE.read_text())["scenarios"]
    login_as("oncall")
    found = rows(client.get("/catalog/dr").get_data(as_text=True))
    assert list(found) == [s["slug"] for s in listed] and len(listed) >= 7
    for scenario in listed:
        row = found[scenario["slug"]]
        assert f'<td class="dr-rpo">{escape(scenario["rpo"], quote=False)}</td>' in row
        assert f'<td class="dr-rto">{escape(scenario["rto"], quote=False)}</td>' in row
        assert escape(scenario["title"], quote=False) in row
    # A scenario added to the file reaches the page and the service panels.
    extra = tmp_path / "dr.yaml"
    extra.write_text(dr.SCENARIOS_FILE.read_text() + """- slug: dns-provider-outage
  title: DNS provider outage
  affected: [api-gateway, auth]
  detection: Synthetic checks fail from every region while the clusters are healthy.
  rpo: 0 (no data involved)
  rto: < 30 minutes (delegate to the secondary DNS provider)
  recovery:
  - Confirm on the provider's status page.
  - Switch the delegation to the secondary provider.
""")
    monkeypatch.setattr(dr, "SCENARIOS", dr.load(extra))
    found = rows(client.get("/catalog/dr").get_data(as_text=True))
    assert list(found)[-1] == "dns-provider-outage"
    assert "&lt; 30 minutes (delegate to the secondary DNS provider)" in \
        found["dns-provider-outage"]
    assert "no runbook" in found["dns-provider-outage"]  # seeded only from the shipped file
    html = client.get("/catalog/services/auth").get_data(as_text=True)
    assert 'data-scenario="dns-provider-outage"' in html.split('id="service-dr"')[1]


GOOD = ("- slug: a\n  title: A\n  affected: [order]\n  detection: d\n  rpo: r\n  rto: t\n"
        "  recovery: [step]\n")


@pytest.mark.parametrize(("text", "message"), [
    ("scenarios:\n" + GOOD.replace("  rto: t\n", ""), "scenario a: rto must be a non-empty"),
    ("scenarios:\n" + GOOD.replace("slug: a", "slug: A b"), "scenario 1: slug must be"),
    ("scenarios:\n" + GOOD.replace("[order]", "order"), "affected must be a non-empty list"),
    ("scenarios:\n" + GOOD.replace("[order]", "[Order DB]"), "catalog entry slugs"),
    ("scenarios:\n" + GOOD.replace("[step]", "[]"), "recovery must be a non-empty list"),
    ("scenarios:\n" + GOOD + "  owner: x\n", "unknown field(s) owner"),
    ("scenarios:\n" + GOOD + GOOD, "used twice"),
    ("scenarios:\n" + GOOD + "---\nscenarios: []\n", "one document"),
    ("scenarios: {a: 1}\n", "one document"),
    ("scenarios: [unclosed\n", "dr.yaml"),
    ("scenarios:\n" + GOOD.replace("title: A", "title: \"A\\0\""), None),
])
def test_a_malformed_data_file_is_refused_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "dr.yaml"
    path.write_text(text)
    if message is None:  # a quoted escape is just text; the file still loads
        assert dr.load(path)[0].title == "A\x00"
        return
    with pytest.raises(dr.ScenarioFileError, match=re.escape(message)):
        dr.load(path)
