"""Request models shared by every service, and `parse`, which validates a request with a
model and answers the services' usual 422 (`fields` maps each invalid field to what it
takes, i.e. the field's documented description) on failure.

The same models feed the OpenAPI document (common/openapi.py), so what a route documents
is what it validates.
"""
from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from flask import request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)

from platform_services.common import addresses
from platform_services.common.app import ApiError

M = TypeVar("M", bound=BaseModel)
# PostgreSQL text refuses NUL characters; every free-text field says so in its schema.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
# Integer columns: INTEGER and BIGINT bounds, so no value reaches the database unstorable.
MAX_INT4 = 2**31 - 1
MAX_INT8 = 2**63 - 1


def _email(value: str) -> str:
    if not addresses.is_email(value):
        raise ValueError("not a valid e-mail address")
    return value


# An e-mail address as email-validator reads it, documented as the OpenAPI `email` format.
Email = Annotated[str, AfterValidator(_email),
                  WithJsonSchema({"type": "string", "format": "email",
                                  "maxLength": addresses.MAX_LENGTH})]


class Body(BaseModel):
    """A JSON request body: exact types (no "7" for 7, no true for 1), no unknown fields."""
    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query-string parameters: text converted to the declared types, unknown ones
    ignored (as a browser or a proxy may add its own)."""
    model_config = ConfigDict(extra="ignore")


class ErrorBody(BaseModel):
    """The body of every error answer."""
    error: str = Field(description="a machine-readable code")
    message: str | None = Field(None, description="what is wrong, for a person")
    error_description: str | None = Field(None, description="what is wrong, in the OAuth "
                                                            "endpoints' RFC 6749 answers")
    fields: dict[str, str] | None = Field(None, description="each invalid field and what "
                                                            "it takes")
    request_id: str | None = Field(None, description="the request's id (server errors)")


class TenantRegistration(Body):
    """`PUT /v1/tenants/<slug>`: the portal's tenant id and display name."""
    id: int = Field(ge=1, le=MAX_INT4, description=f"an integer from 1 to {MAX_INT4} "
                                                   "(the portal's tenant id)")
    name: Annotated[Text, Field(min_length=1, max_length=200)] | None = Field(
        None, description="a string of 1 to 200 characters")


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside `annotation` (Model, list[Model], Model | None...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _field_name(loc: tuple[int | str, ...]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _describe(model: type[BaseModel], error: Mapping[str, Any]) -> str:
    """The description of the innermost documented field the error is about."""
    if error["type"] == "extra_forbidden":
        return "unknown field"
    current: type[BaseModel] | None = model
    description = None
    for part in error["loc"]:
        if not isinstance(part, str) or current is None or part not in current.model_fields:
            continue
        info = current.model_fields[part]
        description = info.description or description
        current = _inner_model(info.annotation)
    return description or str(error["msg"])


def parse(model: type[M], data: Any, message: str) -> M:
    """`data` validated by `model`, or a 422 ApiError naming every invalid field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors(include_url=False, include_input=False):
            fields.setdefault(_field_name(error["loc"]), _describe(model, error))
        raise ApiError(422, "invalid", message, fields) from exc


def parse_query(model: type[M], message: str) -> M:
    """The request's query string validated by `model`; an empty parameter counts as
    absent (a form's blank field)."""
    return parse(model, {k: v for k, v in request.args.items() if v}, message)


SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
UUID_PATH = {"type": "string", "format": "uuid"}


class OrderLine(Body):
    """One line of an order or a reservation."""
    sku: str = Field(pattern=SKU_PATTERN, description="letters, digits, . _ - (at most 64)")
    quantity: int = Field(ge=1, le=10_000, description="a whole number from 1 to 10000")
