"""The PDF form of a report, for a person (and whoever they forward it to).

A first page with the tenant's name, the period and when it was made, summary figures of
every row of the report, a bar chart, then the rows as a table whose header repeats on each
page, and "Page N of M" on every page. Only the first `max_rows` rows go into the table
(the summary still counts them all) and the PDF says so when it stops early. Identifiers
are set in a monospace font and wrap instead of being cut.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.tenants.periods import label
from portal.tenants.report_rows import RowCounter

PAGE = landscape(A4)
MARGIN = 36
WIDTH = PAGE[0] - 2 * MARGIN
FONT, MONO, SIZE, PAD = "Helvetica", "Courier", 7, 3
CHUNK = 1000
MONO_COLUMNS = {"order_id", "tracking_number", "sku"}
# Typical widths in characters: they share out the page; long values wrap.
CHARS = {"order_id": 36, "tracking_number": 24, "sku": 20, "customer_ref": 16,
         "created_at": 19, "confirmed_at": 19, "fulfilled_at": 19, "updated_at": 19}
ACCENT = colors.HexColor("#1f4e79")
_STYLES = getSampleStyleSheet()
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=SIZE, leading=SIZE + 1.5,
                       wordWrap="CJK")
_MONO_CELL = ParagraphStyle("mono", parent=_CELL, fontName=MONO)


@dataclass
class Summary:
    """Running figures of one report kind, fed one row (as a dict) at a time."""
    kind: str
    rows: int = 0
    done: int = 0
    units: int = 0
    canceled: int = 0
    reserved: int = 0
    available: int = 0
    minutes: list = field(default_factory=list)
    skus: set = field(default_factory=set)
    by_warehouse: Counter = field(default_factory=Counter)
    by_day: Counter = field(default_factory=Counter)

    def add(self, row: dict) -> None:
        """Count one row of the report."""
        self.rows += 1
        if self.kind == "orders":
            n = 1
            self.done += row["status"] == "fulfilled"
            self.units += row["units"] or 0
            self.by_day[_day(row["created_at"])] += 1
        elif self.kind == "fulfillment":
            n = 1
            self.done += row["fulfilled_at"] is not None
            if row["minutes_to_fulfill"] is not None:
                self.minutes.append(float(row["minutes_to_fulfill"]))
            if row["confirmed_at"] is not None:
                self.by_day[_day(row["confirmed_at"])] += 1
        elif self.kind == "usage":
            n = int(row["orders"] or 0)
            self.done += int(row["fulfilled"] or 0)
            self.units += int(row["units"] or 0)
            self.canceled += int(row["canceled"] or 0)
            self.by_day[_day(row["day"])] += n
        else:  # inventory: the chart shows what is available per warehouse
            n = int(row["available"] or 0)
            self.skus.add(row["sku"])
            self.units += int(row["on_hand"] or 0)
            self.reserved += int(row["reserved"] or 0)
            self.available += n
        self.by_warehouse[row["warehouse"] or "main"] += n

    def figures(self) -> list[tuple[str, str]]:
        """(label, value) pairs for the summary block."""
        top = ", ".join(f"{w} ({n:,})" for w, n in self.by_warehouse.most_common(3)) or "none"
        if self.kind == "inventory":
            return [("SKUs", f"{len(self.skus):,}"), ("Stock rows", f"{self.rows:,}"),
                    ("On hand", f"{self.units:,}"), ("Reserved", f"{self.reserved:,}"),
                    ("Available", f"{self.available:,}"), ("Top warehouses", top)]
        if self.kind == "fulfillment":
            typical = f"{median(self.minutes):,.1f} min" if self.minutes else "n/a"
            return [("Shipments", f"{self.rows:,}"), ("Fulfilled", f"{self.done:,}"),
                    ("Fulfilment rate", _rate(self.done, self.rows)),
                    ("Median time to fulfil", typical), ("Top warehouses", top)]
        orders = self.rows if self.kind == "orders" else sum(self.by_day.values())
        figures = [("Orders", f"{orders:,}"), ("Fulfilled", f"{self.done:,}"),
                   ("Fulfilment rate", _rate(self.done, orders)), ("Units", f"{self.units:,}")]
        if self.kind == "usage":
            figures.append(("Canceled", f"{self.canceled:,}"))
        return figures + [("Top warehouses", top)]

    def chart(self, date_from: date, date_to: date) -> tuple[str, list[str], list[int]]:
        """(title, category labels, values) of the report's bar chart."""
        if self.kind == "inventory":
            pairs = sorted(self.by_warehouse.items())
            return "Available units per warehouse", [p[0] for p in pairs], [p[1] for p in pairs]
        days = [date.fromordinal(d) for d in range(date_from.toordinal(),
                                                   date_to.toordinal() + 1)]
        title = "Shipments confirmed per day" if self.kind == "fulfillment" else "Orders per day"
        return title, [f"{d:%d %b}" for d in days], [self.by_day.get(d, 0) for d in days]


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def _text(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


class _NumberedCanvas(Canvas):
    """Holds every page back until the end so each can say 'Page N of M'."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(colors.grey)
            self.drawRightString(PAGE[0] - MARGIN, MARGIN / 2, f"Page {number} of {total}")
            super().showPage()
        super().save()


def _logo(name: str) -> Drawing:
    """The tenant's initials in a box where a logo goes."""
    words = ["".join(c for c in w if c.isalnum()) for w in name.replace("-", " ").split()]
    initials = "".join(w[0] for w in words if w)[:2].upper() or "?"
    box = Drawing(48, 48)
    # The stubs type Rect's **kw as the whole TypedDict (no Unpack), so no keyword passes.
    box.add(Rect(0, 0, 48, 48, rx=6, ry=6,
                 fillColor=ACCENT, strokeColor=None))  # type: ignore[arg-type]
    box.add(String(24, 17, initials, fontName="Helvetica-Bold", fontSize=18,
                   fillColor=colors.white, textAnchor="middle"))
    return box


def _bar_chart(title: str, names: list[str], values: list[int]) -> Drawing:
    drawing = Drawing(WIDTH, 170)
    drawing.add(String(0, 158, title, fontName="Helvetica-Bold", fontSize=10))
    chart = VerticalBarChart()
    # The stubs declare the plot area's geometry int; reportlab takes any number of points.
    chart.x, chart.y, chart.height = 40, 25, 120
    chart.width = WIDTH - 50  # type: ignore[assignment]
    chart.data = [values or [0]]
    step = max(1, len(names) // 31)  # at most about a month of labels under the bars
    chart.categoryAxis.categoryNames = [n if i % step == 0 else ""
                                        for i, n in enumerate(names)] or [""]
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 45 if len(names) > 12 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(names) > 12 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def _widths(header) -> list[float]:
    wanted = [max(CHARS.get(h, 10), len(h)) * (4.2 if h in MONO_COLUMNS else 3.8) + 2 * PAD
              for h in header]
    scale = WIDTH / sum(wanted)
    return [w * scale for w in wanted]


def _cells(header, widths, row) -> list:
    """One table row: plain strings, or a wrapping paragraph where a value is too wide."""
    cells = []
    for name, width, value in zip(header, widths, row):
        text, font = _text(value), MONO if name in MONO_COLUMNS else FONT
        cell: str | Paragraph = text
        if stringWidth(text, font, SIZE) > width - 2 * PAD:
            cell = Paragraph(_escape(text), _MONO_CELL if font == MONO else _CELL)
        cells.append(cell)
    return cells


def build(out, *, tenant_name: str, title: str, kind: str, date_from: date, date_to: date,
          generated_at: datetime, header, rows: Iterable[tuple], counter: RowCounter,
          on_progress: Callable[[int], None], progress_every: int, max_rows: int) -> None:
    """Write the whole PDF to the binary file `out`, counting table rows into `counter`."""
    summary = Summary(kind)
    widths = _widths(header)
    table = [list(header)]
    for row in rows:
        summary.add(dict(zip(header, row)))
        if counter["rows"] >= max_rows:
            counter["truncated"] = True
            continue  # keep counting for the summary; the table is full
        table.append(_cells(header, widths, row))
        counter["rows"] += 1
        if counter["rows"] % progress_every == 0:
            on_progress(counter["rows"])
    period = label(date_from, date_to)
    heading = Table([[_logo(tenant_name), [
        Paragraph(_escape(tenant_name), _STYLES["Title"].clone("t", alignment=0,
                                                              spaceAfter=2)),
        Paragraph(f"<b>{_escape(title)}</b>, {period}", _STYLES["Heading3"]),
        Paragraph(f"Period {date_from:%Y-%m-%d} to {date_to:%Y-%m-%d} &nbsp; · &nbsp; "
                  f"generated {generated_at:%Y-%m-%d %H:%M} UTC", _STYLES["Normal"])]]],
        colWidths=[60, WIDTH - 60])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    figures = summary.figures()
    figure = ParagraphStyle("figure", fontName="Helvetica-Bold", fontSize=12, leading=14)
    boxes = Table([[name for name, _ in figures],
                   [Paragraph(_escape(value), figure) for _, value in figures]],
                  colWidths=[WIDTH / len(figures)] * len(figures))
    boxes.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), FONT, 8), ("TEXTCOLOR", (0, 0), (-1, 0), colors.grey),
        ("BOX", (0, 0), (-1, -1), 0.5, colors.lightgrey),
        ("LINEAFTER", (0, 0), (-2, -1), 0.5, colors.lightgrey)]))
    story = [heading, Spacer(1, 8), boxes, Spacer(1, 12),
             _bar_chart(*summary.chart(date_from, date_to)), Spacer(1, 10)]
    cap_note = (f"This PDF lists the first {max_rows:,} of {summary.rows:,} rows (the limit "
                "of a PDF); request the CSV format for the complete data.")
    if counter["truncated"]:
        story.append(Paragraph(f"<b>{cap_note}</b>", _STYLES["Normal"]))
    if len(table) == 1:
        story.append(Paragraph("No rows in this period.", _STYLES["Normal"]))
    else:
        style = TableStyle([
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", SIZE),
            ("FONT", (0, 1), (-1, -1), FONT, SIZE),
            *[("FONT", (i, 1), (i, -1), MONO, SIZE) for i, h in enumerate(header)
              if h in MONO_COLUMNS],
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, ACCENT),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), PAD), ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
            ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])
        # Splitting a table across pages costs time in its length: tables of CHUNK rows
        # keep a 20,000-row PDF linear (each chunk repeats the header as it starts).
        for at in range(1, len(table), CHUNK):
            part = LongTable([table[0]] + table[at:at + CHUNK], colWidths=widths, repeatRows=1)
            part.setStyle(style)
            story.append(part)
        if counter["truncated"]:
            story += [Spacer(1, 6), Paragraph(f"<b>{cap_note}</b>", _STYLES["Normal"])]

    def running_head(canvas, doc):
        if doc.page > 1:
            canvas.setFont(FONT, 8)
            canvas.setFillColor(colors.grey)
            canvas.drawString(MARGIN, PAGE[1] - MARGIN / 2, f"{tenant_name} · {title}, {period}")

    doc = SimpleDocTemplate(out, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN, title=f"{tenant_name}: "
                            f"{title}, {period}", author="Meridian", pageCompression=1)
    doc.build(story, onFirstPage=running_head, onLaterPages=running_head,
              canvasmaker=_NumberedCanvas)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
