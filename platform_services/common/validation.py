"""Validation of order lines and idempotency keys (orders and inventory share it): every
problem named per field, before anything is written."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from platform_services.common.app import ApiError

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
MAX_LINES, MAX_QUANTITY = 100, 10_000
ALLOWED = {"lines", "customer_ref"}


@dataclass(frozen=True)
class OrderRequest:
    lines: list[dict[str, Any]]
    customer_ref: str | None
    fingerprint: str

    @property
    def total_quantity(self) -> int:
        return sum(line["quantity"] for line in self.lines)


def _quantity_error(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if value < 1:
        return "must be at least 1"
    if value > MAX_QUANTITY:
        return f"must be at most {MAX_QUANTITY}"
    return None


def _lines(raw: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors["lines"] = "a non-empty list of {sku, quantity}"
        return []
    if len(raw) > MAX_LINES:
        errors["lines"] = f"at most {MAX_LINES} lines"
        return []
    merged: dict[str, int] = {}
    for i, line in enumerate(raw):
        if not isinstance(line, dict):
            errors[f"lines[{i}]"] = "an object with sku and quantity"
            continue
        sku: Any = line.get("sku")  # a str and an int once the checks below passed
        qty: Any = line.get("quantity")
        if not isinstance(sku, str) or not SKU.match(sku):
            errors[f"lines[{i}].sku"] = "letters, digits, . _ - (at most 64)"
        problem = _quantity_error(qty)
        if problem:
            errors[f"lines[{i}].quantity"] = problem
        if f"lines[{i}].sku" not in errors and not problem:
            merged[sku] = merged.get(sku, 0) + qty  # one reservation per SKU
    return [{"sku": s, "quantity": q} for s, q in sorted(merged.items())]


def parse_order(data: dict[str, Any]) -> OrderRequest:
    """An OrderRequest, or a 422 ApiError listing every invalid field."""
    errors: dict[str, str] = {}
    for unknown in sorted(set(data) - ALLOWED):
        errors[unknown] = "unknown field"
    lines = _lines(data.get("lines"), errors)
    ref = data.get("customer_ref")
    if ref is not None and (not isinstance(ref, str) or not 0 < len(ref) <= 64):
        errors["customer_ref"] = "a string of 1 to 64 characters"
    if errors:
        raise ApiError(422, "invalid", "the order is invalid", errors)
    canonical = json.dumps({"lines": lines, "customer_ref": ref}, sort_keys=True)
    return OrderRequest(lines, ref, hashlib.sha256(canonical.encode()).hexdigest())


def parse_idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key header, validated; None when absent."""
    if value is None:
        return None
    if not IDEMPOTENCY_KEY.match(value):
        raise ApiError(422, "invalid", "invalid Idempotency-Key header",
                       {"Idempotency-Key": "1 to 100 of letters, digits, . _ : -"})
    return value
