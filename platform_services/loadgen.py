"""A load generator: realistic traffic for N tenants so dashboards and SLOs have live data.

Per tick it creates an order (with an idempotency key, sometimes retried), confirms most,
cancels some, sends a few invalid requests on purpose, and restocks a warehouse when an
order finds no stock.  `python -m platform_services loadgen --help`.

Every call carries a client-credentials token of the load generator's platform client
(SERVICE_CLIENT_ID / SERVICE_CLIENT_SECRET in the environment, never on the command line)
for the service it calls.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import time
import uuid
from dataclasses import dataclass

import requests

from platform_services.common.jwt_auth import audience_of
from platform_services.common.service_tokens import BearerAuth, ClientCredentials

log = logging.getLogger("platform_services.loadgen")
WAREHOUSES = ("us-east-1a", "us-west-2b", "eu-west-1a")


@dataclass(frozen=True)
class Tenant:
    id: int
    slug: str


def parse_tenant(value: str) -> Tenant:
    """`slug:id` as given on the command line."""
    slug, _, raw_id = value.partition(":")
    if not raw_id.isdigit() or not slug:
        raise argparse.ArgumentTypeError(f"expected slug:id, got {value!r}")
    return Tenant(int(raw_id), slug)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The CLI options of `loadgen`."""
    parser.add_argument("--order-url", default="http://127.0.0.1:8101")
    parser.add_argument("--inventory-url", default="http://127.0.0.1:8102")
    parser.add_argument("--worker-url", default="http://127.0.0.1:8104")
    parser.add_argument("--auth-url", default=os.environ.get("AUTH_URL",
                                                             "http://127.0.0.1:8106"))
    parser.add_argument("--tenant", type=parse_tenant, action="append", default=[],
                        help="slug:id of a tenant (repeat); default: --tenants synthetic ones")
    parser.add_argument("--tenants", type=int, default=3, help="synthetic tenants to create")
    parser.add_argument("--skus", type=int, default=12, help="SKUs per tenant")
    parser.add_argument("--rate", type=float, default=2.0, help="orders per second")
    parser.add_argument("--duration", type=float, default=0, help="seconds; 0 = until Ctrl-C")
    parser.add_argument("--invalid-ratio", type=float, default=0.05)
    parser.add_argument("--cancel-ratio", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=None)


class LoadGenerator:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.http = requests.Session()
        self.credentials = ClientCredentials(args.auth_url,
                                             os.environ.get("SERVICE_CLIENT_ID", ""),
                                             os.environ.get("SERVICE_CLIENT_SECRET", ""))
        self.audiences = {args.order_url: audience_of("order"),
                          args.inventory_url: audience_of("inventory"),
                          args.worker_url: audience_of("worker")}
        self.tenants = args.tenant or [Tenant(900_000 + i, f"load-tenant-{i}")
                                       for i in range(1, args.tenants + 1)]
        self.counts: dict[str, int] = {}

    def _send(self, method: str, url: str, **kwargs) -> requests.Response | None:
        audience = next(aud for base, aud in self.audiences.items() if url.startswith(base))
        try:
            response = self.http.request(method, url, timeout=10,
                                         auth=BearerAuth(self.credentials, audience), **kwargs)
        except requests.RequestException as exc:
            self._count("unreachable")
            log.warning("%s %s failed: %s", method, url, exc)
            return None
        self._count(str(response.status_code))
        return response

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def wait_for_services(self, timeout: float = 60.0) -> None:
        """Give services started alongside (`portal dev`) time to come up."""
        deadline = time.monotonic() + timeout
        for base in (self.args.order_url, self.args.inventory_url, self.args.worker_url):
            while time.monotonic() < deadline:
                try:
                    if self.http.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.5)

    def setup(self) -> None:
        """Register the tenants with each service and stock their warehouses."""
        self.wait_for_services()
        for tenant in self.tenants:
            for base in (self.args.order_url, self.args.inventory_url, self.args.worker_url):
                self._send("PUT", f"{base}/v1/tenants/{tenant.slug}",
                           json={"id": tenant.id, "name": tenant.slug})
            for warehouse in WAREHOUSES:
                self.restock(tenant, warehouse)

    def restock(self, tenant: Tenant, warehouse: str) -> None:
        """A warehouse sync reporting fresh counts for every SKU."""
        items = [{"sku": f"SKU-{n:04d}", "on_hand": self.rng.randint(200, 500)}
                 for n in range(1, self.args.skus + 1)]
        self._send("PUT", f"{self.args.inventory_url}/v1/tenants/{tenant.slug}/warehouses/"
                          f"{warehouse}/stock", json={"items": items})

    def tick(self) -> None:
        """One unit of traffic for a random tenant."""
        tenant = self.rng.choice(self.tenants)
        url = f"{self.args.order_url}/v1/tenants/{tenant.slug}/orders"
        if self.rng.random() < self.args.invalid_ratio:
            self._send("POST", url, json={"lines": [{"sku": "SKU-0001", "quantity": -1}]})
            return
        lines = [{"sku": f"SKU-{self.rng.randint(1, self.args.skus):04d}",
                  "quantity": self.rng.randint(1, 3)} for _ in range(self.rng.randint(1, 3))]
        key = uuid.uuid4().hex
        response = self._send("POST", url, json={"lines": lines},
                              headers={"Idempotency-Key": key})
        if response is not None and response.status_code == 409:
            self.restock(tenant, self.rng.choice(WAREHOUSES))
        if response is None or response.status_code != 201:
            return
        if self.rng.random() < 0.05:  # a client retry: must replay, not duplicate
            self._send("POST", url, json={"lines": lines}, headers={"Idempotency-Key": key})
        action = "cancel" if self.rng.random() < self.args.cancel_ratio else "confirm"
        self._send("POST", f"{url}/{response.json()['id']}/{action}")

    def run(self) -> dict[str, int]:
        """Drive traffic at --rate until --duration elapses (or forever)."""
        self.setup()
        interval = 1.0 / max(self.args.rate, 0.01)
        deadline = time.monotonic() + self.args.duration if self.args.duration else None
        while deadline is None or time.monotonic() < deadline:
            started = time.monotonic()
            self.tick()
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
        return self.counts


def run(args: argparse.Namespace) -> int:
    """Entry point of `python -m platform_services loadgen`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s loadgen %(message)s")
    try:
        counts = LoadGenerator(args).run()
    except KeyboardInterrupt:
        return 0
    log.info("responses by status: %s", counts)
    return 0
