"""The search service: PostgreSQL full-text search for real (the embedded default and the
fallback), product events from RabbitMQ, and the Elasticsearch path against the local
stand-in of fake_elasticsearch.py (Elasticsearch cannot run here), which checks the
documented index, _bulk, _search and _aliases requests."""
from __future__ import annotations

import json
import time

import pika
import pytest

from platform_services.search import indexer
from platform_services.search.api import build
from platform_services.search.settings import SearchSettings
from tests.integration.services.tokens import api
from tests.integration.services_accounts.conftest import metric, register

pytestmark = pytest.mark.integration
PRODUCTS = [
    {"sku": "TENT-2P", "name": "Trail tent for two", "category": "camping",
     "description": "Light tent, waterproof fly", "price_cents": 19900},
    {"sku": "LAMP-1", "name": "Camping lantern", "category": "camping",
     "description": "LED lantern for the tent", "price_cents": 2900},
    {"sku": "BOOT-9", "name": "Hiking boots", "category": "footwear",
     "description": "Waterproof leather boots", "price_cents": 14900},
]


@pytest.fixture
def search(config, run_service, tenant):
    def starter(es_url: str | None = None, **config_overrides):
        settings = SearchSettings(elasticsearch_url=es_url, es_timeout=1.0,
                                  es_index_prefix=f"t{tenant[0]}-", es_replicas=0,
                                  index_interval=3600)
        running = run_service(build(config("search", **config_overrides), log=False,
                                    settings=settings))
        register(running.url, tenant)
        return running
    return starter


def _load(url: str, slug: str, products=PRODUCTS) -> None:
    answer = api.put(f"{url}/v1/tenants/{slug}/products", json={"products": products},
                     timeout=10)
    assert answer.status_code == 200, answer.text


def _search(url: str, slug: str, **params) -> dict:
    answer = api.get(f"{url}/v1/tenants/{slug}/search", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_postgresql_full_text_search_ranks_and_filters(search, tenant):
    svc = search()
    _load(svc.url, tenant[1])
    found = _search(svc.url, tenant[1], q="tent")
    assert found["backend"] == "postgresql"
    assert [h["sku"] for h in found["hits"]] == ["TENT-2P", "LAMP-1"]  # name beats description
    assert [h["sku"] for h in _search(svc.url, tenant[1], q="waterproof",
                                      category="footwear")["hits"]] == ["BOOT-9"]
    assert [h["sku"] for h in _search(svc.url, tenant[1], q="waterproof -boots")["hits"]] \
        == ["TENT-2P"]


def test_tenants_never_see_each_others_products(search, tenant):
    svc = search()
    _load(svc.url, tenant[1])
    other = (tenant[0] + 50, f"{tenant[1]}-other")
    register(svc.url, other)
    assert _search(svc.url, other[1], q="tent")["hits"] == []


def test_an_older_product_event_never_overwrites_a_newer_one(search, tenant):
    svc = search()
    _load(svc.url, tenant[1], [{"sku": "CUP-1", "name": "Enamel mug", "version": 20}])
    _load(svc.url, tenant[1], [{"sku": "CUP-1", "name": "Plastic cup", "version": 10}])
    assert [h["name"] for h in _search(svc.url, tenant[1], q="mug")["hits"]] == ["Enamel mug"]


@pytest.mark.parametrize("params, field", [
    ({"q": ""}, "q"), ({"q": "x" * 201}, "q"), ({"q": "tent", "limit": "0"}, "limit"),
    ({"q": "tent", "limit": "abc"}, "limit"), ({"q": "tent", "category": "<script>"}, "category"),
])
def test_bad_search_parameters_are_422(search, tenant, params, field):
    svc = search()
    answer = api.get(f"{svc.url}/v1/tenants/{tenant[1]}/search", params=params, timeout=5)
    assert answer.status_code == 422 and field in answer.json()["fields"]


def test_oversized_and_invalid_product_batches_are_refused(search, tenant):
    svc = search()
    too_many = [{"sku": f"S{i}", "name": "n"} for i in range(1001)]
    answer = api.put(f"{svc.url}/v1/tenants/{tenant[1]}/products", timeout=10,
                     json={"products": too_many})
    assert answer.status_code == 422 and "products" in answer.json()["fields"]
    answer = api.put(f"{svc.url}/v1/tenants/{tenant[1]}/products", timeout=10,
                     json={"products": [{"sku": "bad sku!", "name": ""}]})
    assert set(answer.json()["fields"]) == {"products[0].sku", "products[0].name"}
    huge = api.put(f"{svc.url}/v1/tenants/{tenant[1]}/products", timeout=10,
                   data=b"[" + b"0," * 600_000 + b"0]",
                   headers={"Content-Type": "application/json"})
    assert huge.status_code == 413


def test_product_events_from_rabbitmq_update_the_index(search, tenant, broker, run_prefix):
    svc = search(rabbitmq_url=broker)
    assert svc.service.workers[0].connected.wait(10)
    conn = pika.BlockingConnection(pika.URLParameters(broker))
    channel = conn.channel()
    events = [("product.upserted", {"tenant_id": tenant[0], "sku": "KAYAK-1",
                                    "name": "Sea kayak", "category": "water", "version": 5}),
              ("product.upserted", {"tenant_id": tenant[0], "sku": "PADDLE-1",
                                    "name": "Kayak paddle", "version": 5}),
              ("product.deleted", {"tenant_id": tenant[0], "sku": "PADDLE-1", "version": 6})]
    for n, (key, payload) in enumerate(events):
        channel.basic_publish(f"{run_prefix}inventory.events", key, json.dumps(payload).encode(),
                              pika.BasicProperties(message_id=f"inv:{tenant[0]}:{n}"))
    conn.close()
    handled = 'meridian_messages_consumed_total{outcome="ok",queue="search.products",' \
              'service="search"}'
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and metric(svc.url, handled) < 3:
        time.sleep(0.05)
    assert [h["sku"] for h in _search(svc.url, tenant[1], q="kayak")["hits"]] == ["KAYAK-1"]


def test_elasticsearch_bulk_indexing_search_and_fallback(search, tenant, fake_es):
    svc = search(es_url=fake_es.url)
    index = svc.service.app.extensions["product_index"]
    engine = svc.service.engines[0]
    metrics = svc.service.app.extensions["metrics"]
    _load(svc.url, tenant[1])
    # Rows of earlier tests in this database are pending too: the indexer serves all tenants.
    assert indexer.index_pending(engine, index, metrics, batch=500) >= 3
    alias = index.alias(tenant[0])
    assert any(path == "/_bulk" for _, path in fake_es.requests) and fake_es.problems == []
    live = fake_es.aliases[alias]
    assert set(fake_es.indices[live]["docs"]) == {"TENT-2P", "LAMP-1", "BOOT-9"}
    found = _search(svc.url, tenant[1], q="tent", category="camping")
    assert found["backend"] == "elasticsearch"
    assert {h["sku"] for h in found["hits"]} == {"TENT-2P", "LAMP-1"}
    assert ("POST", f"/{alias}/_search") in fake_es.requests

    fake_es.down()
    fallback = _search(svc.url, tenant[1], q="boots")
    assert fallback["backend"] == "postgresql" and fallback["hits"][0]["sku"] == "BOOT-9"
    assert metric(svc.url, 'meridian_business_events_total{event="search",outcome="fallback"') == 1
    _load(svc.url, tenant[1], [{"sku": "STOVE-1", "name": "Camp stove", "version": 7}])
    with pytest.raises(Exception):  # noqa: B017 - whatever the ES client raises when down
        indexer.index_pending(engine, index, metrics, batch=500)
    assert metric(svc.url, "meridian_search_index_pending") == 1  # waits, not lost
    fake_es.up()
    assert indexer.index_pending(engine, index, metrics, batch=500) == 1
    assert "STOVE-1" in fake_es.indices[live]["docs"]


def test_reindex_swaps_the_alias_atomically(search, tenant, fake_es):
    svc = search(es_url=fake_es.url)
    index = svc.service.app.extensions["product_index"]
    _load(svc.url, tenant[1])
    indexer.index_pending(svc.service.engines[0], index, svc.service.app.extensions["metrics"],
                          batch=500)
    alias = index.alias(tenant[0])
    old = fake_es.aliases[alias]
    time.sleep(0.002)  # index names carry milliseconds
    answer = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/reindex", timeout=10)
    assert answer.status_code == 200, answer.text
    new = answer.json()["index"]
    assert new != old and fake_es.aliases[alias] == new and old not in fake_es.indices
    assert set(fake_es.indices[new]["docs"]) == {"TENT-2P", "LAMP-1", "BOOT-9"}
    swaps = [r for r in fake_es.requests if r == ("POST", "/_aliases")]
    assert len(swaps) == 1 and fake_es.problems == []
    assert _search(svc.url, tenant[1], q="lantern")["backend"] == "elasticsearch"


def test_reindex_without_elasticsearch_is_a_clear_409(search, tenant):
    svc = search()
    answer = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/reindex", timeout=5)
    assert answer.status_code == 409 and answer.json()["error"] == "no_elasticsearch"
