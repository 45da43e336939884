"""Idempotency that survives Redis: the order service reaches a real Redis through a TCP
proxy that the tests cut between claiming a key and storing the order. The database's
unique (tenant, key) is the truth; a claim is a short lease, so a retry is never held off
for long and replays the stored order with its original status and body."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.integration.services.servers import REDIS_URL, TcpProxy, register, stock
from tests.integration.services.test_messaging import wait_for
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration
LEASE = 1.0
BODY = {"lines": [{"sku": "SKU-1", "quantity": 2}], "customer_ref": "lease-1"}


@pytest.fixture
def redis_proxy():
    """A cuttable TCP proxy in front of the test Redis."""
    target = make_url(REDIS_URL.replace("redis://", "postgresql://"))
    proxy = TcpProxy(target.port or 6379)
    yield proxy, f"redis://127.0.0.1:{proxy.port}/{target.database}"
    proxy.close()


@pytest.fixture
def lease_stack(config, run_service, tenant, redis_proxy):
    """Inventory + an order service whose Redis goes through the proxy, short leases."""
    def make(inventory_timeout: float):
        inventory = run_service(config("inventory", redis_url=None))
        order = run_service(config("order", redis_url=redis_proxy[1],
                                   inventory_url=inventory.url,
                                   inventory_timeout=inventory_timeout,
                                   idempotency_lease_seconds=LEASE))
        for service in (inventory, order):
            register(service.url, tenant)
        stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 100})
        return order
    return make


def _orders_of(db_url: str, tenant_id: int) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT count(*) FROM orders.orders WHERE tenant_id = :t"),
                            {"t": tenant_id})
    engine.dispose()
    return count


@contextmanager
def _stock_locked(services_db: str, tenant_id: int):
    """Hold the tenant's stock rows locked: a reservation waits until the block ends."""
    engine = create_engine(services_db)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1 FROM inventory.stock WHERE tenant_id = :t FOR UPDATE"),
                         {"t": tenant_id})
            yield
    finally:
        engine.dispose()


@contextmanager
def _claim_watcher(run_prefix: str, tenant_id: int):
    """A function returning the key's value in Redis (read directly, not via the proxy)."""
    direct = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    name = f"{run_prefix}idem:order:{tenant_id}:lease-key"
    try:
        yield lambda: direct.get(name) or ""
    finally:
        direct.close()


def _claimed_then_cut(services_db, tenant, run_prefix, proxy, post, hold_after_cut: float):
    """Start `post` while the tenant's stock is locked (its reservation waits), cut Redis
    once its claim is in Redis, keep the lock `hold_after_cut` seconds more, and return
    the first response."""
    with _claim_watcher(run_prefix, tenant[0]) as claim, \
            ThreadPoolExecutor(max_workers=1) as pool:
        with _stock_locked(services_db, tenant[0]):
            first = pool.submit(post)
            wait_for(lambda: claim().startswith("pending:"), timeout=10, every=0.01)
            proxy.down()
            time.sleep(hold_after_cut)
        return first.result(timeout=30)


def test_a_claim_is_renewed_while_its_request_runs(lease_stack, tenant, services_db,
                                                    run_prefix):
    order = lease_stack(inventory_timeout=10)
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"
    with _claim_watcher(run_prefix, tenant[0]) as claim, \
            ThreadPoolExecutor(max_workers=1) as pool:
        with _stock_locked(services_db, tenant[0]):
            first = pool.submit(lambda: api.post(url, json=BODY, timeout=30,
                                                 headers={"Idempotency-Key": "lease-key"}))
            held = wait_for(lambda: claim().startswith("pending:") and claim(), timeout=10,
                            every=0.01)
            time.sleep(LEASE * 3)
            assert claim() == held  # still this request's claim, three leases later
        assert first.result(timeout=30).status_code == 201
        assert claim().startswith("done:")


def test_redis_cut_between_claim_and_store_retries_replay_the_original_response(
        lease_stack, redis_proxy, tenant, services_db, run_prefix):
    order = lease_stack(inventory_timeout=10)
    proxy = redis_proxy[0]
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"

    def post():
        return api.post(url, json=BODY, headers={"Idempotency-Key": "lease-key"}, timeout=30)

    original = _claimed_then_cut(services_db, tenant, run_prefix, proxy, post,
                                 hold_after_cut=0.2)
    started = time.monotonic()
    during = post()  # Redis still unreachable: the database answers at once
    during_seconds = time.monotonic() - started
    proxy.up()
    time.sleep(LEASE * 2)  # the first request's lease has lapsed (it could not record done)
    retries = [post() for _ in range(3)]

    assert original.status_code == 201, original.text
    assert during_seconds < 3
    for retry in (during, *retries):
        assert retry.status_code == 201, retry.text
        assert retry.json() == original.json()
        assert retry.headers["Idempotent-Replayed"] == "true"
    assert _orders_of(services_db, tenant[0]) == 1


def test_a_claim_left_by_a_failed_request_lapses_and_the_retry_creates_the_order(
        lease_stack, redis_proxy, tenant, services_db, run_prefix):
    """The first request's reservation times out while Redis is cut, so it can neither
    store an order nor free its claim: the lease, not a day-long key, decides when the
    retry may proceed."""
    order = lease_stack(inventory_timeout=1)
    proxy = redis_proxy[0]
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"

    def post():
        return api.post(url, json=BODY, headers={"Idempotency-Key": "lease-key"}, timeout=30)

    failed = _claimed_then_cut(services_db, tenant, run_prefix, proxy, post,
                               hold_after_cut=1.5)
    proxy.up()
    time.sleep(LEASE * 2)
    retry = post()
    again = post()

    assert failed.status_code == 503, failed.text
    assert retry.status_code == 201, retry.text
    assert again.status_code == 201 and again.json() == retry.json()
    assert _orders_of(services_db, tenant[0]) == 1
