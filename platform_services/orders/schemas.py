"""What the order service's routes take and answer (its OpenAPI operations)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from platform_services.common.openapi import Operation
from platform_services.common.schemas import NO_NUL, UUID_PATH, Body, OrderLine, Query
from platform_services.orders.models import STATUSES

# Pydantic reads the tuple's values one by one; static checkers want them spelled out.
Status = Literal[STATUSES]  # type: ignore[valid-type]


class OrderBody(Body):
    """A new order: its lines (one reservation per SKU) and the customer's reference."""
    lines: list[OrderLine] = Field(min_length=1, max_length=100,
                                   description="a non-empty list of {sku, quantity}")
    customer_ref: Annotated[str, StringConstraints(min_length=1, max_length=64,
                                                   pattern=NO_NUL)] | None = Field(
        None, description="a string of 1 to 64 characters")


class OrderList(Query):
    """Filter and size of the recent-orders list."""
    status: Status | None = Field(None, description=", ".join(STATUSES))
    limit: int = Field(50, ge=1, le=500, description="1 to 500")


OPERATIONS = {
    "orders.create_order": Operation(
        "Place an order (an Idempotency-Key header makes retries safe: a retry gets 201 "
        "with the same order and Idempotent-Replayed: true)", body=OrderBody,
        ok=(201,), errors=(409, 503)),
    "orders.get_order": Operation("One order", path={"order_id": UUID_PATH}),
    "orders.list_orders": Operation("The tenant's recent orders", query=OrderList),
    "orders.act_on_order": Operation(
        "Confirm or cancel an order", errors=(409,),
        path={"order_id": UUID_PATH, "action": {"type": "string",
                                                 "enum": ["confirm", "cancel"]}}),
}
