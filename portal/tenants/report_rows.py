"""The row counter a report build shares with its CSV and PDF writers."""
from typing import TypedDict


class RowCounter(TypedDict):
    """Rows written so far, and whether the PDF stopped at its row limit."""
    rows: int
    truncated: bool
