"""The SLA report's two files: a PDF to read (reportlab platypus) and a CSV to compute with
(one row per incident, the month's figures repeated on each; one row when there were none)."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.slo import present
from portal.tenants.sla_plans import CURRENCY
from portal.tenants.sla_report import SlaMonth

CSV_HEADER = ("tenant", "month", "plan", "availability_percent", "downtime_minutes",
              "allowed_downtime_minutes", "target_percent", "met", "credit_percent",
              "credit_amount", "currency", "incident_id", "incident_title", "severity",
              "opened_at", "resolved_at", "affected")
_GRID = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf1")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP")])


def money(cents: int | None) -> str:
    """Cents as '$19.90', or an em dash when the amount is not known."""
    return "—" if cents is None else f"${Decimal(cents) / 100:,.2f}"


def _minutes(value) -> str:
    return f"{float(value):.2f}"


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def credit_line(sla: SlaMonth) -> str:
    """The credit owed in words."""
    if sla.met:
        return "Target met: no service credit is owed for this month."
    amount = "" if sla.credit_cents is None else f" ({money(sla.credit_cents)})"
    return (f"Target missed: a service credit of {sla.credit_percent.normalize():f}% of the "
            f"monthly {sla.plan} plan fee{amount} is owed.")


def summary_rows(sla: SlaMonth) -> list[tuple[str, str]]:
    """(label, value) pairs of the month's figures, as the page and the PDF show them."""
    return [("Availability", present.percent(sla.availability, 3)),
            ("Downtime", f"{_minutes(sla.downtime_minutes)} min"),
            ("Allowed downtime", f"{_minutes(sla.allowed_minutes)} min"),
            ("SLA target", f"{sla.target.normalize():f}%"),
            ("Result", "met" if sla.met else "missed"),
            ("Credit", f"{sla.credit_percent.normalize():f}%"),
            ("Credit amount", money(sla.credit_cents)),
            ("Incidents", str(len(sla.incidents)))]


def csv_bytes(sla: SlaMonth) -> bytes:
    """The report as CSV (UTF-8, header first)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    month = [sla.tenant_name, f"{sla.month:%Y-%m}", sla.plan,
             "" if sla.availability_percent is None else str(sla.availability_percent),
             _minutes(sla.downtime_minutes), _minutes(sla.allowed_minutes),
             f"{sla.target:f}", "yes" if sla.met else "no", f"{sla.credit_percent:f}",
             "" if sla.credit_cents is None else f"{Decimal(sla.credit_cents) / 100:.2f}",
             CURRENCY]
    for incident in sla.incidents:
        writer.writerow(month + [incident.id, incident.title, incident.severity,
                                 _when(incident.opened_at), _when(incident.resolved_at),
                                 incident.scope])
    if not sla.incidents:
        writer.writerow(month + [""] * 6)
    return out.getvalue().encode()


def pdf_bytes(sla: SlaMonth, *, generated_at: datetime) -> bytes:
    """The report as a PDF: heading, summary table, incident list and credits."""
    styles = getSampleStyleSheet()
    cell = styles["BodyText"]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            title=f"SLA report {sla.label}", author="Meridian Platform Portal")
    story = [Paragraph(f"SLA report: {escape(sla.tenant_name)}", styles["Title"]),
             Paragraph(f"{sla.label} · {escape(sla.plan)} plan · generated "
                       f"{_when(generated_at)}", cell), Spacer(0, 6 * mm),
             Table([("Measure", "Value"), *summary_rows(sla)], colWidths=(60 * mm, 60 * mm),
                   style=_GRID, hAlign="LEFT"), Spacer(0, 6 * mm),
             Paragraph("Incidents", styles["Heading2"])]
    if sla.incidents:
        # Ids are plain strings, which a table never wraps, in a column wide enough for
        # the largest id; the other cells are paragraphs and wrap.
        rows = [[row[0], *(Paragraph(escape(text), cell) for text in row[1:])] for row in
                [("Id", "Title", "Severity", "Opened", "Resolved", "Affected")] +
                [(f"#{i.id}", i.title, i.severity.capitalize(), _when(i.opened_at),
                  _when(i.resolved_at) or "open", i.scope) for i in sla.incidents]]
        story.append(Table(rows, colWidths=(28 * mm, 46 * mm, 18 * mm, 27 * mm, 27 * mm,
                                            28 * mm), style=_GRID, repeatRows=1))
    else:
        story.append(Paragraph("No incidents affected this tenant during the month.", cell))
    story += [Spacer(0, 6 * mm), Paragraph("Credits", styles["Heading2"]),
              Paragraph(escape(credit_line(sla)), cell)]
    doc.build(story)
    return out.getvalue()
