"""Fixtures of the auth/billing/notification/search integration tests: a migrated
database, Redis db 12 under a per-run key prefix, per-run RabbitMQ names, and the real
servers of servers.py (OpenBao, localstripe, aiosmtpd) plus the Elasticsearch stand-in."""
from __future__ import annotations

import itertools
import os
import secrets

import pytest

from platform_services.common.runner import start
from tests.integration.services import servers as base_servers
from tests.integration.services import tokens
from tests.integration.services.servers import register  # noqa: F401 (re-exported)
from tests.integration.services_accounts import servers
from tests.integration.services_accounts.fake_elasticsearch import FakeElasticsearch

REDIS_URL = os.environ.get("TEST_SERVICES_ACCOUNTS_REDIS_URL", "redis://127.0.0.1:6379/12")
QUEUES = ["notification.events", "search.products"]
_ids = itertools.count(1)


@pytest.fixture(scope="session")
def services_db():
    yield from base_servers.database()


@pytest.fixture(scope="session")
def run_prefix():
    return f"acct{os.getpid()}{secrets.token_hex(2)}."


@pytest.fixture(scope="session")
def redis_client(run_prefix):
    yield from base_servers.redis_client(REDIS_URL, run_prefix)


@pytest.fixture(scope="session")
def broker(run_prefix):
    yield from base_servers.broker(run_prefix, QUEUES)


@pytest.fixture(scope="session")
def openbao(tmp_path_factory):
    proc, addr = servers.start_openbao(tmp_path_factory.mktemp("bao"))
    yield addr
    servers.stop(proc)


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    proc, base = servers.start_localstripe(tmp_path_factory.mktemp("stripe"))
    yield base
    servers.stop(proc)


@pytest.fixture
def smtp_relay():
    """Start SMTP servers on free ports; all stopped at the end of the test."""
    started = []

    def starter():
        controller, inbox = servers.start_smtp()
        started.append(controller)
        return f"127.0.0.1:{controller.port}", inbox
    yield starter
    for controller in started:
        controller.stop()


@pytest.fixture
def fake_es():
    es = FakeElasticsearch().start()
    yield es
    es.stop()


@pytest.fixture(scope="session")
def platform_auth(services_db):
    """The auth service whose JWKS the services trust and whose tokens the tests send."""
    yield from tokens.platform_auth(services_db)


@pytest.fixture
def config(services_db, run_prefix, platform_auth):
    return base_servers.config_factory(services_db, run_prefix,
                                       **tokens.service_credentials(platform_auth.url))


@pytest.fixture
def run_service():
    """Start a built service on a free port (the `api` session authenticates to it); all
    stopped at the end of the test."""
    yield from base_servers.started_services(lambda service: tokens.api.track(start(service)))


@pytest.fixture
def tenant():
    n = next(_ids)
    return 800_000 + os.getpid() % 1000 * 100 + n, f"s2-test-{n}-{secrets.token_hex(2)}"


def metric(url: str, line_start: str) -> float:
    """The value of the first /metrics sample whose line starts with `line_start`."""
    for line in tokens.api.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
