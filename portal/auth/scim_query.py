"""SCIM list parameters: filters (parsed by scim2-models) and 1-based pagination."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from scim2_models import InvalidFilterException, ScimFilter
from scim2_models.path import CompareOperator, Comparison
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_COUNT = 200  # ServiceProviderConfig announces this as filter.maxResults
MAX_FILTER = 2000
_NUMBER = re.compile(r"-?[0-9]{1,9}", re.ASCII)


class BadQuery(ValueError):
    """A list request the server refuses; `scim_type` is the RFC 7644 error keyword."""

    def __init__(self, message: str, scim_type: str):
        super().__init__(message)
        self.scim_type = scim_type


@dataclass(frozen=True)
class Page:
    start: int  # 1-based
    count: int


def page(args) -> Page:
    """startIndex and count of a list request (RFC 7644 §3.4.2.4), clamped to what we serve."""
    def number(name: str, default: int) -> int:
        raw = args.get(name)
        if raw is None or raw == "":
            return default
        if not _NUMBER.fullmatch(raw.strip()):
            raise BadQuery(f"{name} must be an integer", "invalidValue")
        return int(raw.strip())
    return Page(start=max(1, number("startIndex", 1)),
                count=min(MAX_COUNT, max(0, number("count", MAX_COUNT))))


def parse_filter(model: type, text: str | None) -> ScimFilter | None:
    """The filter bound to `model`, or None; raises BadQuery(invalidFilter) when unusable."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_FILTER:
        raise BadQuery("The filter is too long.", "invalidFilter")
    try:
        return ScimFilter[model](text)  # type: ignore[valid-type]  # chosen at run time
    except (InvalidFilterException, ValueError, TypeError) as exc:
        raise BadQuery(f"Unusable filter: {exc}", "invalidFilter") from exc


def equality_on(flt: ScimFilter | None, attribute: str) -> Any:
    """The value of a filter that is exactly `<attribute> eq <value>`, else None.

    The common provisioning lookup (`userName eq "…"`) is answered by the database; any
    other filter is evaluated by scim2-models on the candidate resources.
    """
    node = flt.ast if flt is not None else None
    if (isinstance(node, Comparison) and node.op == CompareOperator.eq
            and node.attr_path.sub_attr is None and node.attr_path.uri in (None, "")
            and node.attr_path.attr.lower() == attribute.lower()
            and isinstance(node.value, str)):
        return node.value
    return None


def paged(session: Session, stmt: Select, p: Page) -> tuple[int, list]:
    """(total rows of `stmt`, the rows of the page), both counted by the database."""
    total = session.execute(select(func.count())
                            .select_from(stmt.order_by(None).subquery())).scalar_one()
    return total, list(session.scalars(stmt.offset(p.start - 1).limit(p.count)))


def window(items: list, p: Page) -> list:
    """The slice of `items` a page asks for."""
    return items[p.start - 1:p.start - 1 + p.count]
