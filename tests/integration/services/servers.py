"""Real servers for the services' tests: a fresh PostgreSQL database migrated with the
services' Alembic tree, Redis and RabbitMQ at their loopback ports (isolated by a key
prefix, a Redis db number and per-run exchange/queue names), moto's S3 server on a free
port, and a TCP proxy in front of RabbitMQ that a test can cut to simulate an outage."""
from __future__ import annotations

import os
import secrets
import socket
import threading

import pika
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from platform_services.common import migrate
from platform_services.common.messaging import EXCHANGES

ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BROKER_URL = os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("TEST_SERVICES_REDIS_URL", "redis://127.0.0.1:6379/14")


def create_database() -> str:
    """A new database with the services' schemas; returns its URL."""
    name = f"services_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return url


def drop_database(url: str) -> None:
    """Drop a database made by `create_database`."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def down(self) -> None:
        self.is_up = False
        with self._lock:
            links, self._links = self._links, []
        for s in links:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
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
    response = requests.put(f"{url}/v1/tenants/{slug}", json={"id": tid, "name": slug},
                            timeout=5)
    assert response.status_code == 200, response.text


def stock(inventory_url: str, slug: str, warehouse: str, items: dict[str, int]) -> None:
    """Warehouse sync of `items` (sku -> on_hand)."""
    response = requests.put(
        f"{inventory_url}/v1/tenants/{slug}/warehouses/{warehouse}/stock",
        json={"items": [{"sku": s, "on_hand": n} for s, n in items.items()]}, timeout=5)
    assert response.status_code == 200, response.text
