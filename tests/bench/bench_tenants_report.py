"""One report build in its own process, for bench_tenants.py's peak-RSS figures.

Usage: bench_tenants_report.py DATABASE_URL S3_URL TENANT_ID stream|naive
Prints one JSON line: rows, seconds, peak_rss_mb.
"""
from __future__ import annotations

import csv
import io
import json
import os
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from portal.app import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.integrations.s3 import S3Client  # noqa: E402
from portal.tenants import report_build, reports  # noqa: E402
from portal.tenants.models import Report  # noqa: E402


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). ru_maxrss would not do: Linux carries it over
    from the parent through fork and exec, so a child of a big parent reports the parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(url: str, s3_url: str, tenant_id: int, mode: str) -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                      "LOG_FORMAT": "text", "S3_ENDPOINT_URL": s3_url})
    s3 = S3Client(endpoint_url=s3_url)
    s3.ensure_bucket("meridian-reports")
    today = date.today()
    with app.app_context():
        with db.session_scope() as session:
            report = reports.request(session=session, tenant_id=tenant_id, kind="orders",
                                     fmt="csv", date_from=today - timedelta(days=365),
                                     date_to=today)
            session.info.clear()  # no Celery here: the build runs in this process
            report_id = report.id
        with db.session_scope() as session:
            report = report_build.start(session=session, report_id=report_id)
        start = time.perf_counter()
        with db.session_scope() as session:
            conn = session.connection()
            if mode == "stream":
                _, written, _ = report_build.write(report=report, source=conn, s3=s3,
                                                   bucket="meridian-reports", pdf_max_rows=1,
                                                   on_progress=lambda n: None,
                                                   tenant_name="Bench tenant")
            else:
                header, _, sql = report_build.QUERIES["orders"]
                params = {"t": tenant_id, "w": None, "start": report_build._midnight(report.date_from),
                          "end": report_build._midnight(report.date_to + timedelta(days=1))}
                from sqlalchemy import text
                rows = conn.execute(text(sql), params).all()
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerow(header)
                writer.writerows(rows)
                data = buffer.getvalue().encode()
                s3.upload_stream("meridian-reports", f"naive/{report_id}.csv", [data],
                                 content_type="text/csv")
                written = len(rows)
        seconds = time.perf_counter() - start
        with db.session_scope() as session:
            session.delete(session.get(Report, report_id))
    peak = _peak_rss_mb()
    print(json.dumps({"rows": written, "seconds": seconds, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
