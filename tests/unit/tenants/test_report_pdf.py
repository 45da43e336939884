"""The PDF report as a reader sees it: pdftotext and pdftoppm read what report_pdf wrote."""
import uuid
from datetime import UTC, date, datetime, timedelta

from portal.tenants import periods, report_files
from tests.unit.tenants import pdfs

ORDERS = ("order_id", "created_at", "status", "customer_ref", "units", "warehouse")
FULFILLMENT = ("order_id", "warehouse", "carrier", "tracking_number", "status",
               "confirmed_at", "fulfilled_at", "minutes_to_fulfill")


def _pdf(kind, header, rows, *, max_rows=20000, name="Acme Outdoor Co"):
    counter, progress = {"rows": 0, "truncated": False}, []
    document = {"tenant_name": name, "title": f"{kind.title()} report", "kind": kind,
                "date_from": date(2026, 12, 1), "date_to": date(2026, 12, 7),
                "generated_at": datetime(2026, 12, 7, 5, 30, tzinfo=UTC)}
    data = b"".join(report_files.pdf_chunks(document, header, iter(rows), counter,
                                            progress.append, max_rows))
    return data, counter, progress


def _orders(n):
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    return [(str(uuid.uuid4()), start + timedelta(hours=5 * i),
             "fulfilled" if i % 4 else "pending", f"cust-{i}", 3,
             "reno" if i % 3 else "newark") for i in range(n)]


def test_orders_pdf_has_header_summary_chart_full_ids_and_page_numbers(tmp_path):
    rows = _orders(120)
    data, counter, progress = _pdf("orders", ORDERS, rows)
    assert data.startswith(b"%PDF") and counter == {"rows": 120, "truncated": False}
    assert progress[-1] == 120
    text = pdfs.text(data, tmp_path)
    assert "Acme Outdoor Co" in text and "AO" in text  # name and the initials' logo box
    assert "Orders report, 1–7 Dec 2026" in text
    assert "Period 2026-12-01 to 2026-12-07" in text and "generated 2026-12-07 05:30 UTC" in text
    summary = " ".join(text.split()[:80])
    # 120 orders, every 4th pending: 90 fulfilled, 75.0%, 360 units; reno holds 2 in 3
    for figure in ("120", "90", "75.0%", "360", "reno (80), newark (40)"):
        assert figure in summary, figure
    assert "Orders per day" in text and "01 Dec" in text
    assert all(r[0] in text for r in rows)  # every 36-character id, whole
    pages = text.count("Page ")
    assert "Page 1 of " in text and f"Page {pages} of {pages}" in text and pages > 1
    assert text.count("order_id") == pages  # the header row repeats on every page of rows
    assert "first" not in text  # no row cap was hit
    page = pdfs.first_page(data, tmp_path)
    assert page.size[0] > page.size[1] and not pdfs.is_blank(page)


def test_pdf_states_the_row_cap_and_still_sums_every_row(tmp_path):
    data, counter, _ = _pdf("orders", ORDERS, _orders(30), max_rows=10)
    assert counter == {"rows": 10, "truncated": True}
    text = " ".join(pdfs.text(data, tmp_path).split())
    assert "This PDF lists the first 10 of 30 rows" in text
    assert "request the CSV format for the complete data" in text
    assert "Orders Fulfilled Fulfilment rate Units Top warehouses 30 22" in text


def test_long_values_wrap_instead_of_being_cut(tmp_path):
    order_id = str(uuid.uuid4())
    tracking = "1Z" + "9" * 60 + "END"
    confirmed = datetime(2026, 12, 2, 10, tzinfo=UTC)
    data, _, _ = _pdf("fulfillment", FULFILLMENT, [
        (order_id, "newark", "ups", tracking, "shipped", confirmed,
         confirmed + timedelta(minutes=4), 4.5)])
    text = "".join(pdfs.text(data, tmp_path, layout=False).split())
    assert order_id in text and tracking in text
    assert "Shipments" in text and "Mediantimetofulfil" in text and "4.5min" in text


def test_period_labels():
    assert periods.label(date(2026, 12, 1), date(2026, 12, 31)) == "1–31 Dec 2026"
    assert periods.label(date(2026, 11, 28), date(2026, 12, 4)) == "28 Nov – 4 Dec 2026"
    assert periods.label(date(2025, 12, 28), date(2026, 1, 3)) == "28 Dec 2025 – 3 Jan 2026"
    assert periods.label(date(2026, 12, 7), date(2026, 12, 7)) == "7 Dec 2026"
    assert periods.month_bounds(2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))
