"""Orders per second while RabbitMQ is cut, against the same flow with the broker up.

Run: .venv/bin/python tests/bench/bench_broker_cut.py   (PostgreSQL, Redis, RabbitMQ on
     loopback, as for the test suite)

Inventory, order and fulfillment run in process with the test suite's settings; the order
service reaches RabbitMQ through the fault suite's TCP proxy. Eight client threads create
orders for `ROUND_SECONDS` per round; rounds alternate between "broker up" and "broker cut
for the whole round" (A/B interleaved), and after each cut round the time until the outbox
backlog drains is measured. Orders are accepted during a cut (they wait in the outbox), so
the ratio shows what a broker outage costs the request path. The load average is printed.
Not run by CI. It runs as a pytest session because it reuses the suite's fixtures.
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.faults.conftest import fault_proxy  # noqa: E402,F401
from tests.faults.flow import SKU, start_flow  # noqa: E402
from tests.integration.services.conftest import (  # noqa: E402,F401
    broker,
    config,
    platform_auth,
    run_prefix,
    run_service,
    services_db,
    tenant,
)
from tests.integration.services.servers import stock  # noqa: E402
from tests.integration.services.test_messaging import outbox_pending, wait_for  # noqa: E402
from tests.integration.services.tokens import api  # noqa: E402

CLIENTS, ROUND_SECONDS, ROUNDS = 8, 6.0, 3


def _orders_per_second(url: str) -> float:
    done, stop = [0], time.monotonic() + ROUND_SECONDS
    lock = threading.Lock()

    def client() -> None:
        while time.monotonic() < stop:
            answer = api.post(url, timeout=10, json={"lines": [{"sku": SKU, "quantity": 1}]})
            if answer.status_code == 201:
                with lock:
                    done[0] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / ROUND_SECONDS


def test_orders_per_second_during_a_broker_cut(config, run_service, tenant,  # noqa: F811
                                               fault_proxy, tmp_path):  # noqa: F811
    proxy = fault_proxy(5672)
    flow = start_flow(run_service, config, tenant, rabbitmq_url=proxy.amqp_url(),
                      object_store_dir=str(tmp_path))
    url = flow.orders_url
    stock(flow.inventory.url, tenant[1], "eu-west-1a", {SKU: 1_000_000})  # never the limit
    load_before = os.getloadavg()
    up, cut, drained = [], [], []
    for _ in range(ROUNDS):
        up.append(_orders_per_second(url))
        wait_for(lambda: outbox_pending(flow.order.url) == 0, timeout=60)
        proxy.cut()
        cut.append(_orders_per_second(url))
        proxy.restore()
        restored = time.monotonic()
        wait_for(lambda: outbox_pending(flow.order.url) == 0, timeout=120)
        drained.append(time.monotonic() - restored)
    load_after = os.getloadavg()
    print(f"\n{CLIENTS} clients, {ROUNDS} interleaved rounds of {ROUND_SECONDS:.0f} s; "
          f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"broker up : {statistics.median(up):6.1f} orders/s  rounds "
          f"{' '.join(f'{x:.1f}' for x in up)}")
    print(f"broker cut: {statistics.median(cut):6.1f} orders/s  rounds "
          f"{' '.join(f'{x:.1f}' for x in cut)}  "
          f"({statistics.median(cut) / statistics.median(up):.2f}x)")
    print(f"backlog drained after restore: median {statistics.median(drained):.1f} s, "
          f"max {max(drained):.1f} s")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-s", "-p", "no:cacheprovider",
                          "--rootdir", str(ROOT)]))
