"""End to end: a real order service process (`python -m platform_services serve order`, on
a freshly migrated services database, no Redis or RabbitMQ) takes good and bad requests,
and the portal's scrape source, reading its /metrics twice a minute apart, stores exactly
those requests as the good/total counts of the seeded order SLOs.

The bad requests are real ones: order creation reserves stock at INVENTORY_URL, here a
loopback socket that accepts connections and never answers, so each creation waits out
INVENTORY_TIMEOUT and answers 503 `inventory_unavailable` (an inventory service
timeout must not make order creation hang)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import requests

from portal.catalog import service as catalog
from portal.config import PROJECT_ROOT
from portal.slo import demo, samples, specs
from portal.slo.samples import MINUTE
from portal.slo.sources import ScrapeSource, fetch_metrics, parse_metrics
from tests.integration.services import servers, tokens
from tests.servers import wait_until

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
INVENTORY_TIMEOUT = 0.6
ORDERS = "/v1/tenants/<tenant>/orders"
# Settings the parent may carry that would give the service a broker, cache or store.
_UNSET = ("REDIS_URL", "RABBITMQ_URL", "S3_ENDPOINT_URL")


@pytest.fixture(scope="module")
def services_db():
    url = servers.create_database()
    yield url
    servers.drop_database(url)


@pytest.fixture(scope="module")
def platform_auth(services_db):
    """The auth service the order service trusts and the portal gets its token from."""
    yield from tokens.platform_auth(services_db)


@pytest.fixture
def silent_inventory():
    """Accepts TCP connections into its backlog and never reads or answers them."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def order_service(services_db, silent_inventory, platform_auth, tmp_path):
    """The order service as `portal dev` runs it: its own process on a free port."""
    port = servers.free_port()
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env.update(DATABASE_URL=services_db, SERVICE_PORT=str(port), LOG_FORMAT="text",
               INVENTORY_URL=silent_inventory, INVENTORY_TIMEOUT=str(INVENTORY_TIMEOUT),
               BREAKER_FAIL_MAX="100",   # keep every creation a real timed-out call
               OBJECT_STORE_DIR=str(tmp_path / "objects"), AUTH_URL=platform_auth.url)
    log = (tmp_path / "order.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "platform_services", "serve", "order"],
                            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url, tmp_path / "order.log")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_ready(proc: subprocess.Popen, url: str, log_path) -> None:
    wait_until(lambda: requests.get(f"{url}/healthz", timeout=1).ok, timeout=60,
               what="order service", proc=proc, log=log_path)


def _drive(url: str, tenant: str, token: str) -> dict[str, int]:
    """Good and bad requests; returns how many of each kind were made."""
    orders = f"{url}/v1/tenants/{tenant}/orders"
    auth = {"Authorization": f"Bearer {token}"}
    codes = [requests.get(orders, timeout=10, headers=auth).status_code
             for _ in range(3)]                                                   # 200
    codes += [requests.post(orders, data="{not json", timeout=10,
                            headers={**auth, "Content-Type": "application/json"}).status_code
              for _ in range(2)]                                                  # 400
    codes.append(requests.get(f"{orders}/999999", timeout=10,
                              headers=auth).status_code)                          # 404
    codes += [requests.post(orders, json={"lines": [{"sku": "SKU-1", "quantity": 1}]},
                            timeout=10, headers=auth).status_code for _ in range(2)]  # 503
    assert codes == [200] * 3 + [400] * 2 + [404] + [503] * 2
    return {"total": len(codes), "bad": 2, "orders_route": 7, "slow": 2}


def _bucket(text: str, le: str) -> float:
    """The order route's latency bucket, read straight from the exposition."""
    return sum(v for name, labels, v in parse_metrics(text)
               if name == "meridian_request_duration_seconds_bucket"
               and labels.get("route") == ORDERS and labels.get("le") == le)


def test_scrape_of_a_live_order_service_stores_the_requests_made(app, session, order_service,
                                                                 platform_auth):
    app.config.update(tokens.portal_config(platform_auth.url))  # the scrape's own token
    token = tokens.credentials(platform_auth.url).token("meridian-order")
    team = catalog.upsert_team(session=session, slug="commerce-live", name="Commerce",
                               chat_channel=None)
    svc = catalog.upsert_service(session=session, slug="order", team=team, name="Order",
                                 base_url=order_service)
    slos = {raw["name"]: specs.upsert(session=session, service=svc, spec=specs.clean(raw))
            for raw in demo.SEED_SLOS["order"]}
    register = requests.put(f"{order_service}/v1/tenants/slo-live", timeout=10,
                            json={"id": 990_001, "name": "SLO live"},
                            headers={"Authorization": f"Bearer {token}"})
    assert register.status_code in (200, 201)
    source = ScrapeSource(timeout=5)

    assert specs.collect(session=session, source=source, now=T0 + MINUTE / 6) == 0
    before = fetch_metrics(order_service, 5)
    made = _drive(order_service, "slo-live", token)
    after = fetch_metrics(order_service, 5)
    assert specs.collect(session=session, source=source, now=T0 + MINUTE + MINUTE / 6) == 2

    def stored(name):
        return samples.minute_series(session=session, slo_id=slos[name].id, start=T0,
                                     end=T0 + 2 * MINUTE)

    assert [(s.minute, s.good, s.total) for s in stored("availability")] == [
        (T0, made["total"] - made["bad"], made["total"])]
    [latency] = stored("order-creation-p99")
    assert (latency.minute, latency.total) == (T0, made["orders_route"])
    # The two creations waited out a 0.6 s timeout, so they are outside le="0.5"; the
    # rest is whatever the service itself put in that bucket (no wall-clock assumption).
    assert latency.good == _bucket(after, "0.5") - _bucket(before, "0.5")
    assert latency.good <= made["orders_route"] - made["slow"]
