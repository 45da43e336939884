"""What the fulfillment service's routes take and answer (its OpenAPI operations)."""
from __future__ import annotations

from platform_services.common.openapi import Operation
from platform_services.common.schemas import UUID_PATH

OPERATIONS = {
    "fulfillment.shipment": Operation("The shipment of an order",
                                      path={"order_id": UUID_PATH}),
    "fulfillment.delivered": Operation("Mark a shipped shipment delivered", errors=(409,),
                                       path={"order_id": UUID_PATH}),
}
