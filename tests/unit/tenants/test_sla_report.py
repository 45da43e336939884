"""The monthly SLA: availability, downtime, credit tiers, which incidents count, and the
PDF (read by pdftotext) and CSV it is written to."""
import csv
import io
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from portal.db import utcnow
from portal.slo.samples import Counts
from portal.tenants import sla_plans, sla_report, sla_report_files
from portal.tenants.models import PLANS
from tests.unit.tenants import pdfs
from tests.unit.tenants.sla_rows import incident, last_month, record_month


def _compute(session, tenant, month):
    inputs = sla_report.month_inputs(session=session, month=month, now=utcnow())
    return sla_report.compute(session=session, tenant=tenant, inputs=inputs)


def _minutes_in(month) -> int:
    start, end = sla_report.month_span(month)
    return int((end - start).total_seconds() // 60)


def test_availability_and_downtime_come_from_the_month_samples(session, make_tenant):
    month = last_month()
    record_month(session, month, good=9_990, total=10_000)
    record_month(session, month, good=10_000, total=10_000)   # a second service, all good
    sla = _compute(session, make_tenant(plan="growth"), month)
    assert sla.availability == Fraction(19_990, 20_000)
    assert sla.availability_percent == Decimal("99.95000")
    assert sla.downtime_minutes == Fraction(1, 2000) * _minutes_in(month)
    assert sla.allowed_minutes == Fraction(1, 1000) * _minutes_in(month)
    assert sla.met and sla.credit_percent == 0 and sla.credit_cents == 0


def test_samples_of_other_months_do_not_count(session, make_tenant):
    month = last_month()
    record_month(session, sla_report.previous_month(month), good=0, total=1_000)
    record_month(session, month, good=1_000, total=1_000)
    sla = _compute(session, make_tenant(), month)
    assert sla.availability == 1 and sla.downtime_minutes == 0


def test_a_month_without_traffic_is_no_data_and_owes_nothing(session, make_tenant):
    sla = _compute(session, make_tenant(), last_month())
    assert sla.availability is None and sla.availability_percent is None
    assert sla.met and sla.credit_percent == 0


@pytest.mark.parametrize("plan, good, credit", [
    ("growth", 999, "0"), ("growth", 998, "10"), ("growth", 990, "10"),
    ("growth", 989, "25"), ("growth", 950, "25"), ("growth", 949, "50"),
    ("starter", 995, "0"), ("starter", 994, "10"), ("starter", 989, "25"),
    ("enterprise", 1000, "0"), ("enterprise", 999, "10"), ("enterprise", 998, "25"),
    ("enterprise", 990, "25"), ("enterprise", 989, "50"),
])
def test_credit_tiers_at_their_boundaries(session, make_tenant, plan, good, credit):
    month = last_month()
    record_month(session, month, good=good * 10, total=10_000)
    sla = _compute(session, make_tenant(plan=plan), month)
    assert sla.credit_percent == Decimal(credit)
    assert sla.met == (credit == "0")
    fee = sla_plans.MONTHLY_FEE_CENTS[plan]
    assert sla.credit_cents == fee * int(credit) // 100


def test_every_plan_credits_from_its_sla_target_down():
    assert set(sla_plans.CREDIT_TIERS) == set(PLANS) == set(sla_plans.MONTHLY_FEE_CENTS)
    for plan, tiers in sla_plans.CREDIT_TIERS.items():
        assert tiers[0][0] == PLANS[plan]
        assert [t[0] for t in tiers] == sorted((t[0] for t in tiers), reverse=True)


def test_tier_comparison_is_exact_and_unknown_plans_owe_a_share_only():
    just_below = Fraction(999, 10) - Fraction(1, 10**9)
    assert sla_plans.credit_percent(plan="growth", availability=Fraction(999, 10)) == 0
    assert sla_plans.credit_percent(plan="growth", availability=just_below) == 10
    assert sla_plans.credit_cents(plan="growth", percent=Decimal(25)) == 4_975
    assert sla_plans.credit_cents(plan="custom", percent=Decimal(25)) is None


def test_incidents_of_this_tenant_or_everyone_in_the_month_only(session, make_tenant):
    month = last_month()
    tenant, other = make_tenant(), make_tenant()
    start, end = sla_report.month_span(month)
    mid = start + timedelta(days=10)
    ours = incident(session, "Orders API errors", opened=mid, tenants=[tenant])
    everyone = incident(session, "Checkout down for all", opened=mid + timedelta(hours=5))
    carried = incident(session, "Began the month before", opened=start - timedelta(hours=3),
                       hours=6, tenants=[tenant])
    incident(session, "Only the other tenant", opened=mid, tenants=[other])
    incident(session, "Internal only", opened=mid, tenants=[tenant], customer_facing=False)
    incident(session, "Next month", opened=end + timedelta(hours=1), tenants=[tenant])
    incident(session, "Ended before the month", opened=start - timedelta(hours=5), hours=1,
             tenants=[tenant])
    sla = _compute(session, tenant, month)
    assert [i.id for i in sla.incidents] == [carried.id, ours.id, everyone.id]
    assert [i.scope for i in sla.incidents] == ["this tenant", "this tenant", "all tenants"]
    assert [i.id for i in _compute(session, other, month).incidents][-1] == everyone.id


def test_pdf_shows_tenant_month_summary_incidents_and_credit(session, make_tenant, tmp_path):
    month = last_month()
    record_month(session, month, good=9_980, total=10_000)
    tenant = make_tenant(slug="acme-fulfilment", plan="growth")
    start, _ = sla_report.month_span(month)
    found = incident(session, "Inventory sync stalled while the warehouse feed kept "
                              "retrying every order of the morning wave",
                     opened=start + timedelta(days=2), tenants=[tenant])
    sla = _compute(session, tenant, month)
    text = pdfs.text(sla_report_files.pdf_bytes(sla, generated_at=utcnow()), tmp_path)
    assert "SLA report: Acme Fulfilment" in text
    assert f"{month:%B %Y}" in text
    assert "99.800%" in text and "99.9%" in text and "missed" in text
    assert f"{float(sla.downtime_minutes):.2f} min" in text
    assert f"#{found.id}" in text                         # the id whole, on one line
    assert "Inventory sync stalled" in text and "morning wave" in text  # wrapped, not cut
    assert "service credit of 10% of the monthly growth plan fee ($19.90)" in text


def test_pdf_never_cuts_the_largest_incident_id(tmp_path):
    month = last_month()
    opened = sla_report.month_span(month)[0] + timedelta(days=1)
    largest = sla_report.SlaIncident(id=2**31 - 1, title="Carrier labels failed " * 6,
                                     severity="sev1", opened_at=opened, resolved_at=None,
                                     scope="all tenants")
    sla = sla_report.SlaMonth(
        tenant_name="Northwind <EU> & Co", plan="growth", month=month,
        counts=Counts(998, 1000), availability=Fraction(998, 1000),
        downtime_minutes=Fraction(864, 10), allowed_minutes=Fraction(432, 10),
        target=Decimal("99.900"), met=False, credit_percent=Decimal(10), credit_cents=1990,
        incidents=(largest,))
    text = pdfs.text(sla_report_files.pdf_bytes(sla, generated_at=utcnow()), tmp_path)
    assert "#2147483647" in text and "Northwind <EU> & Co" in text
    assert "open" in text and "all tenants" in text


def test_csv_has_one_row_per_incident_with_the_month_figures(session, make_tenant):
    month = last_month()
    record_month(session, month, good=9_990, total=10_000)
    tenant = make_tenant(plan="enterprise")
    start, _ = sla_report.month_span(month)
    first = incident(session, "Search slow, results stale", opened=start + timedelta(days=1),
                     tenants=[tenant])
    sla = _compute(session, tenant, month)
    rows = list(csv.DictReader(io.StringIO(sla_report_files.csv_bytes(sla).decode())))
    assert tuple(rows[0]) == sla_report_files.CSV_HEADER
    assert len(rows) == 1
    row = rows[0]
    assert row["month"] == f"{month:%Y-%m}" and row["plan"] == "enterprise"
    assert row["availability_percent"] == "99.90000" and row["met"] == "no"
    assert row["target_percent"] == "99.950" and row["credit_percent"] == "10"
    assert row["credit_amount"] == "99.90" and row["currency"] == "USD"
    assert row["incident_id"] == str(first.id)
    assert row["incident_title"] == "Search slow, results stale"
    assert row["affected"] == "this tenant"
    assert row["opened_at"] == (datetime.combine(start.date() + timedelta(days=1), time(),
                                                 UTC).strftime("%Y-%m-%d %H:%M UTC"))


def test_csv_of_a_month_without_incidents_has_the_figures_once(session, make_tenant):
    sla = _compute(session, make_tenant(), last_month())
    rows = list(csv.DictReader(io.StringIO(sla_report_files.csv_bytes(sla).decode())))
    assert len(rows) == 1 and rows[0]["incident_id"] == "" and rows[0]["met"] == "yes"
