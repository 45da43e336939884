"""Report file formats as chunk generators: CSV (everything) and PDF (for reading).

Both count rows into a shared `counter` and call `on_progress(rows)` every PROGRESS rows,
so the task can publish progress while the upload is still streaming.
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from portal.tenants import report_pdf
from portal.tenants.report_rows import RowCounter

CSV_CHUNK = 256 * 1024
PROGRESS = 5000


def _cell(value) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "" if value is None else str(value)


def csv_chunks(header, rows: Iterable[tuple], counter: RowCounter,
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


def pdf_chunks(document: dict, header, rows: Iterable[tuple], counter: RowCounter,
               on_progress: Callable[[int], None], max_rows: int) -> Iterator[bytes]:
    """The report PDF (portal.tenants.report_pdf), spooled to a temporary file, then read
    in chunks; `document` holds its tenant_name, title, kind, date_from, date_to and
    generated_at."""
    with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as out:
        report_pdf.build(out, header=header, rows=rows, counter=counter,
                         on_progress=on_progress, progress_every=PROGRESS, max_rows=max_rows,
                         **document)
        on_progress(counter["rows"])
        out.seek(0)
        while chunk := out.read(1024 * 1024):
            yield chunk
