"""The alert board from the alerts received by webhook, summarised by the database.

Without Alertmanager's API the board is read from the webhook's table, which can hold
thousands of firing alerts during an outage. The database counts each service/severity
group and returns only the rows the board shows (the first few of each group, all of an
opened group up to a cap), in one statement whatever the number of alerts.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.oncall.models import ReceivedAlert

EXPANDED_ROWS = 500  # an opened group shows at most this many alerts

_BOARD = text(f"""
WITH firing AS (
    SELECT fingerprint, coalesce(nullif(severity, ''), 'none') AS severity,
           coalesce(nullif(labels->>'service', ''), nullif(labels->>'job', ''), 'unknown')
               AS service,
           coalesce(labels->>'alertname', '') AS name
    FROM {ReceivedAlert.__tablename__} WHERE status = 'firing'),
ranked AS (
    SELECT firing.*,
           row_number() OVER (PARTITION BY service, severity ORDER BY name, fingerprint) AS n,
           count(*) OVER (PARTITION BY service, severity) AS size
    FROM firing)
SELECT r.fingerprint, a.labels, a.annotations, a.starts_at, r.severity, r.service, r.name,
       r.size
FROM ranked r JOIN {ReceivedAlert.__tablename__} a ON a.fingerprint = r.fingerprint
WHERE r.n <= :rows
   OR (r.n <= :cap AND r.service || '/' || r.severity = ANY(CAST(:opened AS text[])))
ORDER BY r.service, r.severity, r.n
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
