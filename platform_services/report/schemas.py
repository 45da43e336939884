"""What the report service's routes take and answer (its OpenAPI operations)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from platform_services.common.openapi import Operation
from platform_services.common.schemas import Body


class ReportRequest(Body):
    """A CSV report of one kind over the last `days` days."""
    kind: Literal["orders_by_day", "stock_levels"] = Field(
        description="one of orders_by_day, stock_levels")
    days: int = Field(30, ge=1, le=90, description="a whole number of days from 1 to 90")


OPERATIONS = {
    "report.create_report": Operation("Generate (or reuse) a CSV report in object storage",
                                      body=ReportRequest, ok=(201,), errors=(503,)),
}
