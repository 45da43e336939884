"""What the inventory service's routes take and answer (its OpenAPI operations)."""
from __future__ import annotations

from pydantic import Field

from platform_services.common.openapi import Operation
from platform_services.common.schemas import SKU_PATTERN, Body, OrderLine

REFERENCE_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
WAREHOUSE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class ReservationRequest(Body):
    """Hold stock for an order (`reference`) line by line."""
    reference: str = Field(pattern=REFERENCE_PATTERN,
                           description="1 to 64 of letters, digits, . _ : -")
    lines: list[OrderLine] = Field(min_length=1, max_length=100,
                                   description="1 to 100 {sku, quantity}")


class StockItem(Body):
    """A warehouse's count of one SKU."""
    sku: str = Field(pattern=SKU_PATTERN, description="a valid SKU, once per sync")
    on_hand: int = Field(ge=0, le=10_000_000, description="a whole number from 0")


class WarehouseSync(Body):
    """A warehouse's full stock count."""
    items: list[StockItem] = Field(min_length=1, max_length=1000,
                                   description="1 to 1000 {sku, on_hand}")


SKU_PATH = {"type": "string", "pattern": SKU_PATTERN}
OPERATIONS = {
    "inventory.reserve": Operation("Reserve stock for an order", body=ReservationRequest,
                                   ok=(201,), errors=(409,)),
    "inventory.release": Operation("Release a reservation",
                                   path={"reference": {"type": "string",
                                                       "pattern": REFERENCE_PATTERN}}),
    "inventory.stock_levels": Operation("Stock of every SKU per warehouse"),
    "inventory.stock_of": Operation("Stock of one SKU", path={"sku": SKU_PATH}),
    "inventory.warehouse_sync": Operation(
        "Replace a warehouse's stock counts", body=WarehouseSync, errors=(409,),
        path={"warehouse": {"type": "string", "pattern": WAREHOUSE_PATTERN}}),
}
