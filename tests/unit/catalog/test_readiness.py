"""Scorecards: checks on good and broken charts, alerts and runbooks, the deploy gate, trends."""
import pytest

from portal.catalog import readiness
from portal.catalog import service as catalog
from tests.unit.catalog.conftest import CHARTS

GATEKEEPER = ["non-root", "not-privileged", "limits", "no-latest", "registry",
              "network-policy", "pdb", "probes"]


def results(card):
    return {r.check.id: r.status for r in card.results}


def test_order_service_with_its_real_chart_passes_every_check(operated, order):
    rules = {"order": [{"alert": "ErrorBudgetBurn", "labels": {"service": "order"}}]}
    card = readiness.evaluate(session=operated, service=order, rules=rules)
    expected = {check.id: "pass" for check, _ in readiness.CHECKS}
    expected["certificates"] = "na"  # expiry comes from Prometheus, which is not set here
    expected["secrets-rotated"] = "na"  # rotation ages come from Vault, which is not set here
    assert results(card) == expected
    assert card.score == 100
    assert catalog.critical_checks_failing(session=operated, service_id=order.id) == []
    details = {r.check.id: r.detail for r in card.results}
    assert details["slo"] == "2 SLO(s) defined: availability, order-creation-p99."
    assert details["oncall"] == "Commerce on-call: 1 in the primary rotation."


def test_broken_chart_fails_every_gatekeeper_check_and_blocks_deploys(seeded, order):
    order.helm_chart = "broken"
    card = readiness.evaluate(session=seeded, service=order, helm_root=CHARTS, rules={})
    statuses = results(card)
    assert all(statuses[check] == "fail" for check in GATEKEEPER)
    assert statuses["chart"] == "pass"
    assert card.score < 50
    failing = catalog.critical_checks_failing(session=seeded, service_id=order.id,
                                              helm_root=CHARTS)
    assert "Runs as non-root: Deployment/broken container broken sets runAsUser: 0." in failing
    assert any(f.startswith("PDB when replicas > 1: ") for f in failing)
    assert not any(f.startswith("Liveness") for f in failing)  # probes are advisory


def test_missing_chart_fails_and_policies_cannot_pass_without_it(seeded, order, tmp_path):
    card = readiness.evaluate(session=seeded, service=order, helm_root=tmp_path, rules={})
    by_id = {r.check.id: r for r in card.results}
    assert by_id["chart"].status == "fail" and "Chart.yaml missing" in by_id["chart"].detail
    assert {by_id[c].status for c in GATEKEEPER} == {"fail"}


def test_managed_data_store_has_no_chart_checks_and_dr_is_checked(seeded):
    redis = catalog.get_service(session=seeded, slug="redis")
    card = readiness.evaluate(session=seeded, service=redis, rules={})
    assert {results(card)[c] for c in GATEKEEPER + ["chart"]} == {"na"}
    assert results(card)["backups-dr"] == "pass"
    redis.rto = None
    card = readiness.evaluate(session=seeded, service=redis, rules={})
    dr = next(r for r in card.results if r.check.id == "backups-dr")
    assert (dr.status, dr.detail) == ("fail", "No RTO declared.")


def test_every_alert_needs_a_runbook(seeded):
    stripe = catalog.get_service(session=seeded, slug="stripe")  # no runbook of its own
    rules = {"stripe": [{"alert": "StripeWebhookFailures", "labels": {"service": "stripe"}}]}
    card = readiness.evaluate(session=seeded, service=stripe, rules=rules)
    runbook_result = next(r for r in card.results if r.check.id == "runbooks")
    assert runbook_result.status == "fail"
    assert "StripeWebhookFailures" in runbook_result.detail


def test_owner_oncall_slo_and_dashboards_explain_failures(seeded, order):
    """Declaring objectives or naming a schedule in the catalog is not enough: the checks
    read the SLO and on-call areas."""
    order.dashboards = []
    card = readiness.evaluate(session=seeded, service=order, rules={})
    details = {r.check.id: r.detail for r in card.failing}
    assert details["oncall"].startswith("The owning team has no on-call schedule in the "
                                        "on-call area")
    assert details["slo"] == ("No SLO is defined for this service in the SLO area (the "
                              f"catalog declares: {order.slo_summary}).")
    assert details["dashboards"] == "No Grafana dashboard is linked."
    assert "service=order" in details["alerts"]


def test_a_schedule_without_people_fails_and_a_data_store_keeps_its_declaration(
        operated, order):
    from portal.oncall.models import Schedule
    schedule = operated.query(Schedule).filter_by(team_id=order.team_id).one()
    schedule.members.clear()
    operated.flush()
    card = readiness.evaluate(session=operated, service=order, rules={})
    assert {r.check.id: r.detail for r in card.failing}["oncall"] == (
        "Commerce on-call has nobody in its primary rotation.")
    redis = catalog.get_service(session=operated, slug="redis")  # measured by its vendor
    slo = next(r for r in readiness.evaluate(session=operated, service=redis,
                                             rules={}).results if r.check.id == "slo")
    assert slo.status == "pass" and slo.detail.startswith("Objectives: ")


def test_alert_rules_are_read_by_service_label(tmp_path):
    (tmp_path / "rules.yml").write_text(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels: {service: order}\n"
        "  - record: r\n    expr: up\n    labels: {service: order}\n"
        "  - alert: B\n    expr: up == 0\n")
    (tmp_path / "broken.yaml").write_text("groups: [unclosed\n")
    assert [r["alert"] for r in readiness.alert_rules(tmp_path)["order"]] == ["A"]


def test_snapshots_make_a_trend(seeded, order):
    before = readiness.trend(session=seeded, service=order)
    assert len(before) == 1  # the demo seed's first snapshot
    order.helm_chart = "broken"
    card = readiness.evaluate(session=seeded, service=order, helm_root=CHARTS, rules={})
    readiness.snapshot(session=seeded, card=card)
    after = readiness.trend(session=seeded, service=order)
    assert [p.score for p in after] == [before[0].score, card.score]
    assert "non-root" in after[-1].failing


def test_critical_checks_of_an_unknown_service_are_empty(seeded):
    assert catalog.critical_checks_failing(session=seeded, service_id=-1) == []


@pytest.mark.parametrize("slug", ["api-gateway", "auth", "inventory", "search", "billing",
                                  "fulfillment", "notification", "worker"])
def test_platform_services_pass_every_critical_check(operated, slug):
    service = catalog.get_service(session=operated, slug=slug)
    card = readiness.evaluate(session=operated, service=service, rules={})
    assert card.critical_failing == []
