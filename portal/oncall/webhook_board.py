"""The alert board from the alerts received by webhook, summarised by the database.

Without Alertmanager's API the board is read from the webhook's table, which can hold
thousands of firing alerts during an outage. The database counts each service/severity
group and returns only the rows the board shows (the first few of each group, all of an
opened group up to a cap), in one statement whatever the number of alerts.

Each alert's group and name are stored generated columns, indexed for the firing alerts
(`ix_oncall_alerts_board`), so no label is read per alert: the groups are counted from
those columns in one pass, and each group's first rows are read from the index in order
(nothing sorts all the alerts).
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.oncall.models import ReceivedAlert

EXPANDED_ROWS = 500  # an opened group shows at most this many alerts

_TABLE = ReceivedAlert.__tablename__
# The status is a literal, not a parameter: a prepared statement's generic plan could not
# prove that a parameter matches the partial index's condition. The groups are counted in
# one pass rather than each from the index: while alerts keep arriving their rows are not
# yet known visible to every transaction, and counting a group from the index would then
# visit every page holding one of its alerts, once per group.
_BOARD = text(f"""
WITH groups AS (
    SELECT group_service AS service, group_severity AS severity, count(*) AS size
    FROM {_TABLE} WHERE status = 'firing'
    GROUP BY group_service, group_severity)
SELECT a.fingerprint, a.labels, a.annotations, a.starts_at, g.severity, g.service,
       a.alert_name, g.size
FROM groups g CROSS JOIN LATERAL (
    SELECT fingerprint, labels, annotations, starts_at, alert_name FROM {_TABLE}
    WHERE status = 'firing' AND group_service = g.service AND group_severity = g.severity
    ORDER BY alert_name, fingerprint
    LIMIT CASE WHEN g.service || '/' || g.severity = ANY(CAST(:opened AS text[]))
               THEN :cap ELSE :rows END) a
ORDER BY g.service, g.severity, a.alert_name, a.fingerprint
""")


def summarised(*, session: Session, rows_per_group: int,
               expanded: Sequence[str]) -> tuple[list[tuple], dict[tuple[str, str], int]]:
    """The rows to show (fingerprint, labels, annotations, starts_at, severity, service,
    name) and the size of every service/severity group."""
    rows, sizes = [], {}
    for *row, size in session.execute(_BOARD, {"rows": rows_per_group, "cap": EXPANDED_ROWS,
                                               "opened": list(expanded)}):
        rows.append(tuple(row))
        sizes[(row[5], row[4])] = size
    return rows, sizes
