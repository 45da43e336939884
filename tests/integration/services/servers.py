"""Real servers for the services' tests: a fresh PostgreSQL database migrated with the
services' Alembic tree, Redis and RabbitMQ at their loopback ports (isolated by a key
prefix, a Redis db number and per-run exchange/queue names), moto's S3 server on a free
port, and a TCP proxy in front of RabbitMQ that a test can cut to simulate an outage."""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator

import pika
import redis

from platform_services.common import migrate
from platform_services.common.config import ServiceConfig
from platform_services.common.messaging import EXCHANGES
from tests import databases
from tests.databases import drop_database
from tests.integration.services.tokens import api
from tests.servers import free_port  # noqa: F401 (the services' tests import it from here)

BROKER_URL = os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("TEST_SERVICES_REDIS_URL", "redis://127.0.0.1:6379/14")


def create_database() -> str:
    """A new database with the services' schemas; returns its URL."""
    return databases.create_database(f"services_test_{os.getpid()}_{secrets.token_hex(3)}",
                                     migrate.upgrade)


def delete_broker_objects(prefix: str, queues: list[str]) -> None:
    """Remove this run's exchanges and queues (with their .retry and .dlq twins)."""
    conn = pika.BlockingConnection(pika.URLParameters(BROKER_URL))
    channel = conn.channel()
    for queue in queues:
        for name in (queue, f"{queue}.retry", f"{queue}.dlq"):
            channel.queue_delete(f"{prefix}{name}")
    for exchange in EXCHANGES:
        channel.exchange_delete(f"{prefix}{exchange}")
    conn.close()


def database() -> Iterator[str]:
    """Fixture body: a migrated services database for the session, dropped at the end."""
    url = create_database()
    yield url
    drop_database(url)


def broker(prefix: str, queues: list[str]) -> Iterator[str]:
    """Fixture body: the broker URL; this run's exchanges and queues go at the end."""
    yield BROKER_URL
    delete_broker_objects(prefix, queues)


def redis_client(url: str, prefix: str) -> Iterator[redis.Redis]:
    """Fixture body: a Redis client; this run's keys (under `prefix`) go at the end."""
    client = redis.Redis.from_url(url, decode_responses=True)
    yield client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def config_factory(database_url: str, prefix: str, **defaults) -> Callable[..., ServiceConfig]:
    """ServiceConfig builder for this run: fast back-offs, names namespaced by `prefix`."""
    def factory(service: str, **overrides) -> ServiceConfig:
        values = dict(service=service, database_url=database_url, redis_prefix=prefix,
                      exchange_prefix=prefix, retry_base_delay=0.05, log_format="text",
                      **defaults)
        values.update(overrides)
        return ServiceConfig(**values)
    return factory


def started_services(start_one: Callable) -> Iterator[Callable]:
    """Fixture body: a starter whose services are all stopped at the end, newest first."""
    running = []

    def starter(what):
        service = start_one(what)
        running.append(service)
        return service
    yield starter
    for service in reversed(running):
        service.stop()


class TcpProxy:
    """Forwards a loopback port to RabbitMQ; `down()` drops every connection and refuses
    new ones until `up()`, which is what a broker outage looks like to a client."""

    def __init__(self, target_port: int = 5672) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_up = True
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.is_up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._links += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        # A link cut by down() or by either end ends the copy; closed sockets are expected.
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        self.is_up = False
        with self._lock:
            links, self._links = self._links, []
        for s in links:
            with contextlib.suppress(OSError):  # already closed by its peer
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def up(self) -> None:
        self.is_up = True

    def close(self) -> None:
        self.down()
        self.listener.close()

    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"


def register(url: str, tenant: tuple[int, str]) -> None:
    """Register a tenant with a running service."""
    tid, slug = tenant
    response = api.put(f"{url}/v1/tenants/{slug}", json={"id": tid, "name": slug},
                       timeout=5)
    assert response.status_code == 200, response.text


def stock(inventory_url: str, slug: str, warehouse: str, items: dict[str, int]) -> None:
    """Warehouse sync of `items` (sku -> on_hand)."""
    response = api.put(
        f"{inventory_url}/v1/tenants/{slug}/warehouses/{warehouse}/stock",
        json={"items": [{"sku": s, "on_hand": n} for s, n in items.items()]}, timeout=5)
    assert response.status_code == 200, response.text
