"""End-to-end flows on RabbitMQ, PostgreSQL, Redis and moto's S3 server: a confirmed order
is fulfilled (label in S3, order fulfilled, stock decremented); a tenant export is
streamed to S3 under a distributed lock."""
from __future__ import annotations

import json

import boto3
import pytest

from platform_services.common.base import foundation
from platform_services.common.locks import job_lock
from tests.integration.services.servers import BROKER_URL, REDIS_URL, register, stock
from tests.integration.services.test_messaging import wait_for
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


def test_confirmed_order_is_labelled_in_s3_fulfilled_and_decrements_stock(
        config, run_service, tenant, s3_endpoint, s3):
    common = dict(rabbitmq_url=BROKER_URL, redis_url=REDIS_URL, s3_endpoint_url=s3_endpoint)
    inventory = run_service(config("inventory", **common))
    order = run_service(config("order", inventory_url=inventory.url, **common))
    fulfillment = run_service(config("fulfillment", **common))
    for service in (inventory, order):
        register(service.url, tenant)
    stock(inventory.url, tenant[1], "eu-west-1a", {"SKU-9": 10})
    for service in (inventory, order, fulfillment):
        wait_for(lambda s=service: api.get(f"{s.url}/readyz", timeout=5)
                 .json()["status"] == "ok")
    base = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    made = api.post(base, json={"lines": [{"sku": "SKU-9", "quantity": 3}]},
                    timeout=10).json()
    api.post(f"{base}/{made['id']}/confirm", timeout=10).raise_for_status()

    wait_for(lambda: api.get(f"{base}/{made['id']}", timeout=5).json()["status"]
             == "fulfilled")
    shipment = api.get(f"{fulfillment.url}/v1/tenants/{tenant[1]}/shipments/{made['id']}",
                       timeout=5).json()
    assert shipment["status"] == "shipped" and shipment["warehouse"] == "eu-west-1a"
    label = s3.get_object(Bucket="meridian-fulfillment", Key=shipment["label_key"])
    assert shipment["tracking_number"] in label["Body"].read().decode()
    level = wait_for(lambda: (r := api.get(
        f"{inventory.url}/v1/tenants/{tenant[1]}/stock/SKU-9", timeout=5).json())
        ["warehouses"][0]["on_hand"] == 7 and r)
    assert level["available"] == 7
    assert "meridian_stage_duration_seconds_count{service=\"fulfillment\",stage=\"fulfillment\"}" \
        " 1.0" in api.get(f"{fulfillment.url}/metrics", timeout=5).text


def _orders(config, run_service, tenant, n: int):
    inventory = run_service(config("inventory"))
    order = run_service(config("order", inventory_url=inventory.url))
    for service in (inventory, order):
        register(service.url, tenant)
    stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 1000})
    for _ in range(n):
        api.post(f"{order.url}/v1/tenants/{tenant[1]}/orders", timeout=10,
                 json={"lines": [{"sku": "SKU-1", "quantity": 2}]}).raise_for_status()


def test_tenant_export_is_streamed_to_s3_in_parts(config, run_service, tenant, s3_endpoint, s3):
    _orders(config, run_service, tenant, 30)
    worker = run_service(config("worker", rabbitmq_url=BROKER_URL, redis_url=REDIS_URL,
                                s3_endpoint_url=s3_endpoint, export_chunk_bytes=1024))
    register(worker.url, tenant)
    job = api.post(f"{worker.url}/v1/tenants/{tenant[1]}/exports", json={}, timeout=10)
    assert job.status_code == 202
    url = f"{worker.url}/v1/tenants/{tenant[1]}/jobs/{job.json()['id']}"
    done = wait_for(lambda: (r := api.get(url, timeout=5).json())["status"]
                    in ("succeeded", "failed") and r)
    assert done["status"] == "succeeded", done["error"]
    assert done["rows_written"] == 30
    body = s3.get_object(Bucket="meridian-reports", Key=done["object_key"])["Body"].read()
    rows = [json.loads(line) for line in body.decode().splitlines()]
    assert len(rows) == 30 and rows[0]["lines"] == [{"sku": "SKU-1", "quantity": 2}]
    assert done["bytes_written"] == len(body) > 3 * 1024  # several 1 KiB parts


def test_a_job_whose_lock_is_held_is_skipped_not_run_twice(config, run_service, tenant,
                                                          s3_endpoint):
    cfg = config("worker", redis_url=REDIS_URL, s3_endpoint_url=s3_endpoint)
    worker = run_service(cfg)
    register(worker.url, tenant)
    base = foundation(cfg, log=False)
    lock = base.key("lock", "job", "tenant_export", tenant[0])
    with job_lock(client=base.redis, engine=base.engine, name=lock) as held:
        assert held
        job = api.post(f"{worker.url}/v1/tenants/{tenant[1]}/exports", json={},
                       timeout=10).json()
        url = f"{worker.url}/v1/tenants/{tenant[1]}/jobs/{job['id']}"
        done = wait_for(lambda: (r := api.get(url, timeout=5).json())["status"]
                        != "queued" and r)
    base.engine.dispose()
    assert done["status"] == "skipped" and "lock" in done["error"]

