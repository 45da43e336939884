"""Fixtures of the platform services' integration tests (see servers.py)."""
from __future__ import annotations

import itertools
import os
import secrets

import pytest
from moto.s3 import models as moto_s3_models
from moto.server import ThreadedMotoServer

from platform_services.common.runner import start
from platform_services.registry import build
from tests.integration.services import servers, tokens

QUEUES = ["orders.shipments", "inventory.shipments", "inventory.cancellations",
          "fulfillment.orders", "worker.jobs", "test.events"]
_ids = itertools.count(1)


@pytest.fixture(scope="session")
def services_db():
    yield from servers.database()


@pytest.fixture(scope="session")
def run_prefix():
    return f"t{os.getpid()}{secrets.token_hex(2)}."


@pytest.fixture(scope="session")
def broker(run_prefix):
    yield from servers.broker(run_prefix, QUEUES)


@pytest.fixture(scope="session")
def redis_client(run_prefix):
    yield from servers.redis_client(servers.REDIS_URL, run_prefix)


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server in this process on a free port. Its minimum multipart part size
    is lowered from S3's 5 MiB to 1 KiB so a small export already spans several parts."""
    moto_s3_models.S3_UPLOAD_PART_MIN_SIZE = 1024
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    port = servers.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def platform_auth(services_db):
    """The auth service whose JWKS the services trust and whose tokens the tests send."""
    yield from tokens.platform_auth(services_db)


@pytest.fixture
def config(services_db, run_prefix, broker, platform_auth):
    """Build a ServiceConfig for this run; fast back-offs, namespaced names (the `broker`
    fixture removes this run's exchanges and queues at the end), tokens from
    `platform_auth` (the services' own calls use the test platform client)."""
    return servers.config_factory(services_db, run_prefix, relay_interval=0.05,
                                  **tokens.service_credentials(platform_auth.url))


@pytest.fixture
def run_service():
    """Start services on free ports (the `api` session authenticates to them); all
    stopped at the end of the test."""
    yield from servers.started_services(
        lambda config: tokens.api.track(start(build(config, log=False))))


@pytest.fixture
def tenant():
    """A fresh (id, slug) for this test, so tests never see each other's rows."""
    n = next(_ids)
    return 700_000 + os.getpid() % 1000 * 100 + n, f"svc-test-{n}-{secrets.token_hex(2)}"
