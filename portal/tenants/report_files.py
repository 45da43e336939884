"""Report file formats as chunk generators: CSV (everything) and PDF (for reading).

Both count rows into a shared `counter` and call `on_progress(rows)` every PROGRESS rows,
so the task can publish progress while the upload is still streaming.
"""
from __future__ import annotations

import csv
import io
import tempfile
from datetime import datetime
from typing import Callable, Iterable, Iterator

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

CSV_CHUNK = 256 * 1024
PROGRESS = 5000


def _cell(value) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "" if value is None else str(value)


def csv_chunks(header, rows: Iterable[tuple], counter: dict,
               on_progress: Callable[[int], None]) -> Iterator[bytes]:
    """CSV bytes in chunks of about CSV_CHUNK, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        counter["rows"] += 1
        if counter["rows"] % PROGRESS == 0:
            on_progress(counter["rows"])
        if buffer.tell() >= CSV_CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
    on_progress(counter["rows"])


def _page_header(pdf: Canvas, title: str, header, widths, page: int) -> float:
    width, height = landscape(A4)
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(36, height - 36, title)
    pdf.setFont("Helvetica", 8)
    pdf.drawRightString(width - 36, height - 36, f"page {page}")
    pdf.setFont("Helvetica-Bold", 8)
    x = 36
    for name, w in zip(header, widths):
        pdf.drawString(x, height - 60, name)
        x += w
    return height - 74


def pdf_chunks(title: str, header, rows: Iterable[tuple], counter: dict,
               on_progress: Callable[[int], None], max_rows: int) -> Iterator[bytes]:
    """A landscape A4 PDF table, written to a spooled temporary file, then read in chunks."""
    widths = [max(60.0, (landscape(A4)[0] - 72) / len(header))] * len(header)
    with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as out:
        pdf = Canvas(out, pagesize=landscape(A4), pageCompression=1)
        pdf.setTitle(title)
        page, y = 1, _page_header(pdf, title, header, widths, 1)
        pdf.setFont("Helvetica", 8)
        for row in rows:
            if counter["rows"] >= max_rows:
                counter["truncated"] = True
                break
            if y < 36:
                pdf.showPage()
                page += 1
                y = _page_header(pdf, title, header, widths, page)
                pdf.setFont("Helvetica", 8)
            x = 36
            for value, w in zip(row, widths):
                pdf.drawString(x, y, _cell(value)[:int(w / 4.5)])
                x += w
            y -= 13
            counter["rows"] += 1
            if counter["rows"] % PROGRESS == 0:
                on_progress(counter["rows"])
        if counter["truncated"]:
            pdf.setFont("Helvetica-Oblique", 9)
            pdf.drawString(36, max(y - 6, 20), f"Stopped after {max_rows} rows: "
                           "request the CSV format for the complete data.")
        pdf.save()
        on_progress(counter["rows"])
        out.seek(0)
        while chunk := out.read(1024 * 1024):
            yield chunk
