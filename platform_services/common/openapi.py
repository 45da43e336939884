"""The OpenAPI 3.1 document of a service, served at `GET /openapi.json`.

Paths and methods come from the app's url_map, request bodies and query parameters from
the pydantic models the routes validate with (common/schemas.py `parse`), and responses
from what the service layers answer: 401/403 from the token check (common/jwt_auth.py),
404 for unknown path ids, 400/413/415/422 from `json_body` and `parse`, plus each
operation's own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify
from pydantic import BaseModel

from platform_services.common.jwt_auth import OPEN_ENDPOINTS
from platform_services.common.schemas import ErrorBody, TenantRegistration

OPENAPI_VERSION = "3.1.0"
METHODS = ("get", "put", "post", "delete", "patch")
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
REF = "#/components/schemas/{model}"
STATUS_TEXT = {
    400: "malformed request (not JSON, NUL characters, nested too deep)",
    401: "missing or invalid bearer token",
    403: "the token lacks the scope, or a tenant token where a platform one is needed",
    404: "no such tenant or resource",
    409: "conflicts with the current state",
    413: "request body over 1 MiB",
    415: "the body is not JSON",
    422: "a field is invalid (`fields` says which and what it takes)",
    429: "rate limited",
    502: "an upstream delivery failed",
    503: "a dependency is unavailable",
}


@dataclass(frozen=True)
class Operation:
    """What one endpoint takes and answers beyond what the url_map says."""
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    ok: tuple[int, ...] = (200,)
    errors: tuple[int, ...] = ()
    path: dict[str, dict[str, Any]] = field(default_factory=dict)  # path parameter schemas
    media_type: str = "application/json"
    public: bool = False  # checks its own credentials (no bearer token)


COMMON: dict[str, Operation] = {
    "healthz": Operation("Liveness: the process serves", public=True),
    "readyz": Operation("Readiness: every dependency checked by name", errors=(503,)),
    "metrics_endpoint": Operation("Prometheus metrics", media_type="text/plain"),
    "openapi_document": Operation("This document"),
    "tenants.put_tenant": Operation("Register or rename a tenant", body=TenantRegistration,
                                    errors=(409,)),
}


class _Schemas:
    """components/schemas, filled as models are referenced."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        if model.__name__ not in self.found:
            schema = model.model_json_schema(ref_template=REF)
            self.found.update(schema.pop("$defs", {}))
            self.found[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}

    def query_parameters(self, model: type[BaseModel]) -> list[dict[str, Any]]:
        schema = model.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        return [{"name": name, "in": "query", "required": name in required,
                 "description": prop.get("description", ""), "schema": _query_schema(prop)}
                for name, prop in schema["properties"].items()]


def _query_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without the null branch of an optional field: a query
    string has no null, only an absent parameter."""
    schema = {k: v for k, v in prop.items() if k not in ("description", "default", "title")}
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    return schema


def _responses(op: Operation, args: set[str], protected: bool,
               schemas: _Schemas) -> dict[str, Any]:
    codes = set(op.errors)
    if protected:
        codes |= {401, 403}
    if args:
        codes.add(404)
    if op.body is not None:
        codes |= {400, 413, 415, 422}
    if op.query is not None:
        codes.add(422)
    ok_schema = {"type": "string"} if op.media_type == "text/plain" else {"type": "object"}
    out: dict[str, Any] = {str(code): {"description": "success",
                                       "content": {op.media_type: {"schema": ok_schema}}}
                           for code in op.ok}
    error = schemas.ref(ErrorBody)
    for code in sorted(codes):
        out[str(code)] = {"description": STATUS_TEXT.get(code, "error"),
                          "content": {"application/json": {"schema": error}}}
    return out


def _operation(op: Operation, endpoint: str, args: set[str], schemas: _Schemas,
               public: frozenset[str]) -> dict[str, Any]:
    protected = not op.public and endpoint not in OPEN_ENDPOINTS and endpoint not in public
    out: dict[str, Any] = {"operationId": endpoint, "summary": op.summary,
                           "responses": _responses(op, args, protected, schemas)}
    params = [{"name": name, "in": "path", "required": True,
               "schema": op.path.get(name, {"type": "string", "minLength": 1})}
              for name in sorted(args)]
    if op.query is not None:
        params += schemas.query_parameters(op.query)
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": schemas.ref(op.body)}}}
    if not protected:
        out["security"] = []
    return out


def document(app: Flask, title: str, operations: dict[str, Operation],
             public: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`: every rule of its url_map, described by
    `operations` (endpoint → Operation; an endpoint not named gets the generic answers)."""
    described = {**COMMON, **operations}
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        op = described.get(rule.endpoint) or Operation(rule.endpoint.replace("_", " "))
        item = paths.setdefault(_PARAM.sub(r"{\1}", rule.rule), {})
        for method in METHODS:
            if method.upper() in (rule.methods or ()):
                item[method] = _operation(op, rule.endpoint, set(rule.arguments), schemas,
                                          public)
    return {"openapi": OPENAPI_VERSION,
            "info": {"title": f"Meridian {title} service", "version": "1"},
            "paths": paths,
            "components": {"schemas": dict(sorted(schemas.found.items())),
                           "securitySchemes": {"bearer": {
                               "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "an RS256 token of the auth service for "
                                              "this service's audience"}}},
            "security": [{"bearer": []}]}


def install(app: Flask, title: str, operations: dict[str, Operation],
            public: frozenset[str] = frozenset()) -> None:
    """Serve `document(app, ...)` at `GET /openapi.json` (a token needed, as everywhere)."""
    @app.get("/openapi.json")
    def openapi_document():
        return jsonify(document(app, title, operations, public))
