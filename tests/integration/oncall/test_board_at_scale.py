"""The webhook alert board with thousands of firing alerts: what it shows, and that the
database reads it from the board's index instead of scanning every alert."""
import json

import pytest
from sqlalchemy import text

from portal.oncall import webhook_board

pytestmark = pytest.mark.integration

SERVICES, SEVERITIES, PER_GROUP = 6, ("critical", "warning", "info"), 200


@pytest.fixture
def many_alerts(session):
    """PER_GROUP firing alerts in each of 18 service/severity groups, and resolved ones."""
    session.execute(text("""
        INSERT INTO oncall_alerts (fingerprint, status, labels, annotations, starts_at,
                                   severity, last_received_at, received_count)
        SELECT 'scale' || lpad(i::text, 6, '0'), CASE WHEN i % 10 = 0 THEN 'resolved'
                                                      ELSE 'firing' END,
               jsonb_build_object('alertname', 'Scale' || lpad((i / 18 % 1000)::text, 4, '0'),
                                  'service', 'svc' || (i % :services)),
               '{}'::jsonb, now(), (CAST(:severities AS text[]))[1 + i / :services % 3],
               now(), 1
        FROM generate_series(0, :n - 1) AS i"""),
        {"services": SERVICES, "severities": list(SEVERITIES),
         "n": SERVICES * len(SEVERITIES) * PER_GROUP * 10 // 9})
    session.execute(text("ANALYZE oncall_alerts"))


def test_counts_every_group_and_returns_only_the_rows_shown(session, many_alerts):
    rows, sizes = webhook_board.summarised(session=session, rows_per_group=5,
                                           expanded=["svc1/warning"])
    firing = session.execute(text(
        "SELECT count(*) FROM oncall_alerts WHERE status = 'firing'")).scalar_one()
    assert len(sizes) == SERVICES * len(SEVERITIES) and sum(sizes.values()) == firing
    opened = [r for r in rows if (r[5], r[4]) == ("svc1", "warning")]
    assert len(opened) == sizes[("svc1", "warning")]
    assert len(rows) == len(opened) + 5 * (len(sizes) - 1)
    names = [(r[6], r[0]) for r in opened]
    assert names == sorted(names)  # each group in alert name order


def _scans(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


def test_the_board_reads_its_rows_from_the_index_and_sorts_no_alert_list(session,
                                                                        many_alerts):
    """Sorting or ranking every alert, or reading their labels, made the board slow."""
    params = {"rows": 5, "cap": webhook_board.EXPANDED_ROWS, "opened": ["svc1/warning"]}
    shown = len(session.execute(webhook_board._BOARD, params).all())
    plan = session.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {webhook_board._BOARD.text}"),
                           params).scalar_one()
    nodes = list(_scans((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]))
    assert not [n for n in nodes if n["Node Type"] == "WindowAgg"]
    assert all(n["Actual Rows"] <= shown for n in nodes if n["Node Type"] == "Sort"), nodes
    rows_read = [n for n in nodes if n.get("Index Name") == "ix_oncall_alerts_board"]
    assert rows_read and all(n["Node Type"] == "Index Scan" for n in rows_read), nodes
