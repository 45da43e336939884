"""What the worker service's routes take and answer (its OpenAPI operations)."""
from __future__ import annotations

from platform_services.common.openapi import Operation
from platform_services.common.schemas import UUID_PATH, Body


class ExportRequest(Body):
    """A tenant export takes no options."""


OPERATIONS = {
    "worker.create_export": Operation("Queue an export of the tenant's data",
                                      body=ExportRequest, ok=(202,)),
    "worker.get_job": Operation("One of the tenant's jobs", path={"job_id": UUID_PATH}),
}
