"""PostgreSQL restarted (fast shutdown, ~5 s down) while orders are created and confirmed
on a server the test owns: every accepted order is still fulfilled exactly once, the
outbox relays survive, /readyz is not ok during the outage (it names the stalled relay)
and ok after, and the time from restore to a drained backlog is printed."""
from __future__ import annotations

import time

import pytest

from tests.faults.flow import OrderLoad, assert_every_order_fulfilled_once, start_flow
from tests.integration.services.servers import BROKER_URL
from tests.integration.services.test_messaging import wait_for

pytestmark = pytest.mark.integration
DOWN_SECONDS = 5.0


def test_a_database_restart_loses_duplicates_and_strands_no_order(
        owned_postgres, config, run_service, tenant, tmp_path):
    flow = start_flow(run_service, config, tenant, database_url=owned_postgres.url,
                      rabbitmq_url=BROKER_URL, object_store_dir=str(tmp_path),
                      loop_stale_seconds=1.0, breaker_reset_seconds=1.0)
    load = OrderLoad(flow, count=40, every=0.1)
    load.start()
    wait_for(lambda: len(load.accepted) >= 5)
    owned_postgres.stop()
    stopped_at, during = time.monotonic(), []
    while time.monotonic() - stopped_at < DOWN_SECONDS:
        during.append(flow.readyz())
        time.sleep(0.3)
    owned_postgres.start()
    restored_at = time.monotonic()
    load.join(75)
    assert not load.is_alive()
    assert_every_order_fulfilled_once(flow, load, owned_postgres.url, timeout=60)
    recovery = time.monotonic() - restored_at
    print(f"\ndatabase down {DOWN_SECONDS:.0f} s: backlog drained {recovery:.1f} s after "
          f"restore ({load.count} orders)")

    assert all(relay.is_alive() for relay in flow.relays())
    assert during and all(body["status"] != "ok" for body in during)
    assert any(body["code"] == 503 and "postgresql" in body["failed"] for body in during)
    assert any("loop:outbox-relay-orders" in body["failed"] for body in during)
    wait_for(lambda: flow.readyz()["status"] == "ok", timeout=15)
