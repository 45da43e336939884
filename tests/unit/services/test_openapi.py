"""The OpenAPI document built from a service's url_map and request models, and `parse`,
which validates with those models and answers the services' 422 shape."""
from __future__ import annotations

import pytest
from flask import Flask
from pydantic import Field

from platform_services.common.app import ApiError
from platform_services.common.openapi import Operation, document, install
from platform_services.common.schemas import Body, OrderLine, Query, TenantRegistration, parse


class Lines(Body):
    lines: list[OrderLine] = Field(min_length=1, description="a non-empty list")


class Page(Query):
    limit: int = Field(20, ge=1, le=100, description="1 to 100")


def _app() -> Flask:
    app = Flask("openapi-test")

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/v1/tenants/<tenant>/lines")
    def post_lines(tenant):
        return "ok"

    @app.get("/v1/tenants/<tenant>/lines")
    def list_lines(tenant):
        return "ok"
    install(app, "test", {"post_lines": Operation("Add lines", body=Lines, ok=(201,),
                                                  errors=(409,)),
                          "list_lines": Operation("List lines", query=Page)})
    return app


def test_the_document_has_every_route_its_models_and_the_bearer_scheme():
    doc = document(_app(), "test", {"post_lines": Operation("Add lines", body=Lines,
                                                            ok=(201,), errors=(409,)),
                                    "list_lines": Operation("List lines", query=Page)})
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/healthz", "/openapi.json", "/v1/tenants/{tenant}/lines"}
    post = doc["paths"]["/v1/tenants/{tenant}/lines"]["post"]
    assert set(post["responses"]) == {"201", "400", "401", "403", "404", "409", "413", "415",
                                      "422"}
    assert post["requestBody"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/Lines"}
    line = doc["components"]["schemas"]["OrderLine"]
    assert line["properties"]["quantity"]["maximum"] == 10_000
    assert line["additionalProperties"] is False
    listing = doc["paths"]["/v1/tenants/{tenant}/lines"]["get"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["in"] == "query" and limit["schema"]["maximum"] == 100
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["security"] == [{"bearer": []}]
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    assert "401" not in doc["paths"]["/healthz"]["get"]["responses"]


def test_the_document_is_served_at_openapi_json():
    answer = _app().test_client().get("/openapi.json")
    assert answer.status_code == 200
    assert "/v1/tenants/{tenant}/lines" in answer.get_json()["paths"]


@pytest.mark.parametrize("data, fields", [
    ({"lines": []}, {"lines"}),
    ({"lines": [{"sku": "bad sku", "quantity": 0}]}, {"lines[0].sku", "lines[0].quantity"}),
    ({"lines": [{"sku": "A", "quantity": True}]}, {"lines[0].quantity"}),
    ({"lines": [{"sku": "A", "quantity": 2**70}]}, {"lines[0].quantity"}),
    ({"lines": [{"sku": "A", "quantity": 1}], "extra": 1}, {"extra"}),
])
def test_parse_names_every_invalid_field(data, fields):
    with pytest.raises(ApiError) as caught:
        parse(Lines, data, "invalid lines")
    assert caught.value.status == 422 and caught.value.message == "invalid lines"
    assert set(caught.value.fields) == fields


def test_field_messages_are_the_documented_descriptions():
    with pytest.raises(ApiError) as caught:
        parse(TenantRegistration, {"id": "7", "name": "a\x00b"}, "invalid tenant")
    assert caught.value.fields["id"].startswith("an integer from 1 to")
    assert caught.value.fields["name"] == "a string of 1 to 200 characters"
    assert caught.value.fields.keys() == {"id", "name"}


def test_query_values_are_converted_from_text():
    assert parse(Page, {"limit": "7"}, "bad").limit == 7
    with pytest.raises(ApiError):
        parse(Page, {"limit": "٧"}, "bad")
