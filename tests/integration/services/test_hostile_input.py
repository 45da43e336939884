"""Hostile input gets a 4xx that says what is wrong, never a 500: tenant ids that only
look numeric, ids beyond the INTEGER columns, NUL characters, integers beyond BIGINT,
deeply nested and oversized JSON (real services, with the platform's token)."""
from __future__ import annotations

import json

import pytest

from tests.integration.services.servers import register
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration
MAX_TENANT_ID = 2**31 - 1


@pytest.fixture
def order(config, run_service, tenant):
    running = run_service(config("order"))
    register(running.url, tenant)
    return running


def _post(url: str, body: str):
    return api.post(url, data=body.encode(), timeout=30,
                    headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("ref", ["²", "٢", "１", "9" * 20, str(MAX_TENANT_ID + 1), "0", "-1"])
def test_tenant_refs_that_are_not_ascii_ids_in_range_are_404(order, config, run_service,
                                                              ref):
    fulfillment = run_service(config("fulfillment"))
    for url in (f"{order.url}/v1/tenants/{ref}/orders",
                f"{order.url}/v1/tenants/{ref}/orders/00000000-0000-4000-8000-000000000001",
                f"{fulfillment.url}/v1/tenants/{ref}/shipments/"
                f"00000000-0000-4000-8000-000000000001"):
        answer = api.get(url, timeout=10)
        assert answer.status_code == 404, (url, answer.text)
        assert answer.json()["error"] == "unknown_tenant"


def test_an_arabic_indic_digit_is_not_read_as_that_tenant(config, run_service):
    order = run_service(config("order"))
    register(order.url, (2, "hostile-two"))
    assert api.get(f"{order.url}/v1/tenants/2/orders", timeout=10).status_code == 200
    assert api.get(f"{order.url}/v1/tenants/٢/orders", timeout=10).status_code == 404


@pytest.mark.parametrize("tenant_id", [MAX_TENANT_ID + 1, 10**20, 0, True, "7"])
def test_registering_a_tenant_id_no_column_holds_is_422(order, tenant_id):
    answer = api.put(f"{order.url}/v1/tenants/hostile-big", json={"id": tenant_id},
                     timeout=10)
    assert answer.status_code == 422 and answer.json()["fields"]


@pytest.mark.parametrize("body", [
    '{"lines": [{"sku": "A\\u0000", "quantity": 1}]}',
    '{"lines": [{"sku": "A", "quantity": 1}], "customer_ref": "x\\u0000y"}',
    '{"lines\\u0000": []}',
])
def test_nul_characters_are_400(order, tenant, body):
    answer = _post(f"{order.url}/v1/tenants/{tenant[1]}/orders", body)
    assert answer.status_code == 400 and "NUL" in answer.json()["message"]


def test_integers_beyond_bigint_are_422(config, run_service, tenant):
    search = run_service(config("search"))
    register(search.url, tenant)
    answer = api.put(f"{search.url}/v1/tenants/{tenant[1]}/products", timeout=10,
                     json={"products": [{"sku": "A-1", "name": "Lamp", "version": 10**20}]})
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("depth", [33, 100_000])
def test_deep_json_is_400(order, tenant, depth):
    body = '{"lines": ' + "[" * depth + "]" * depth + "}"
    answer = _post(f"{order.url}/v1/tenants/{tenant[1]}/orders", body)
    assert answer.status_code == 400 and "nested" in answer.json()["message"]


def test_oversized_json_is_413(order, tenant):
    body = json.dumps({"lines": [], "customer_ref": "x" * (1024 * 1024)})
    assert _post(f"{order.url}/v1/tenants/{tenant[1]}/orders", body).status_code == 413


def test_json_that_is_not_utf8_or_has_a_huge_number_is_400(order, tenant):
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    assert api.post(url, data=b'{"lines": "\xff"}', timeout=10,
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert _post(url, '{"lines": ' + "9" * 5000 + "}").status_code == 400
