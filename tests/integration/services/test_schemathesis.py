"""Schemathesis against every service, from the OpenAPI document the service publishes
(built from the pydantic models its routes validate with): generated requests, valid and
invalid, never get a 5xx, and every answer has a documented status and matches the
documented body. Tenant routes are called with a tenant-bound token of a registered
tenant, so requests get past the tenant check into the handlers; the others with the
test platform token."""
from __future__ import annotations

import itertools
import os
import secrets
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine

from platform_services.auth import service as auth_service
from platform_services.billing.api import build as build_billing
from platform_services.billing.settings import BillingSettings
from platform_services.common.jwt_auth import audience_of
from platform_services.common.runner import start
from platform_services.common.service_tokens import ClientCredentials
from platform_services.registry import build
from tests.integration.services import servers, tokens
from tests.integration.services.tokens import api
from tests.integration.services_accounts import servers as stripe_servers

pytestmark = pytest.mark.integration
SERVICES = ("auth", "billing", "fulfillment", "inventory", "notification", "order",
            "search", "worker")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
TENANT_SCOPES = sorted(s for s in tokens.ALL_SCOPES if s.endswith((":read", ":write"))
                       and s != "ops:read")
EXAMPLES = 10  # per operation and generation mode (20 in all): the file stays well under 3 min
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory):
    proc, base = stripe_servers.start_localstripe(tmp_path_factory.mktemp("stripe"))
    yield base
    stripe_servers.stop(proc)


@pytest.fixture(scope="module")
def fleet(services_db, run_prefix, broker, platform_auth, s3_endpoint, localstripe):
    """The eight services (auth is the one that issues the tests' tokens) with Redis,
    moto's S3 and localstripe, a tenant registered with each, and an OAuth client of
    that tenant with every tenant scope."""
    make = servers.config_factory(services_db, run_prefix, redis_url=servers.REDIS_URL,
                                  s3_endpoint_url=s3_endpoint,
                                  **tokens.service_credentials(platform_auth.url))
    stripe = BillingSettings(stripe_api_key="sk_test_meridian", stripe_api_base=localstripe,
                             stripe_webhook_secret=f"whsec_{secrets.token_hex(8)}",
                             stripe_timeout=5)
    running = {"inventory": api.track(start(build(make("inventory"), log=False)))}
    # The order service reserves stock at the inventory service it is given.
    running["order"] = api.track(start(build(make("order",
                                                  inventory_url=running["inventory"].url),
                                             log=False)))
    running["billing"] = api.track(start(build_billing(make("billing"), log=False,
                                                       settings=stripe)))
    running.update({name: api.track(start(build(make(name), log=False)))
                    for name in SERVICES if name not in running and name != "auth"})
    running["auth"] = api.track(platform_auth)
    n = next(_ids)
    tenant = (780_000 + os.getpid() % 1000 * 10 + n, f"st-{n}-{secrets.token_hex(2)}")
    for svc in running.values():
        if "tenants.put_tenant" in svc.service.app.view_functions:
            servers.register(svc.url, tenant)
    engine = create_engine(services_db)
    with engine.begin() as conn:
        client = auth_service.create_client(conn, tenant_id=tenant[0], name="schemathesis",
                                            scopes=TENANT_SCOPES)
    engine.dispose()
    credentials = ClientCredentials(platform_auth.url, client["client_id"],
                                    client["client_secret"])
    yield running, tenant, credentials
    for name, svc in running.items():
        if name != "auth":
            svc.stop()


def _exercise(operation, tenant_id: int, headers: dict[str, dict[str, str]],
              statuses: Counter) -> None:
    """Run `operation`'s generated cases, valid and invalid, counting the statuses; the
    first failure raises with schemathesis' report (status, body, a curl line)."""
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            tenant_route = "tenant" in (case.path_parameters or {})
            if tenant_route:
                case.path_parameters["tenant"] = str(tenant_id)
            response = case.call_and_validate(
                headers=headers["tenant" if tenant_route else "platform"], checks=CHECKS,
                timeout=30)
            statuses[(operation.label, response.status_code)] += 1
        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): only valid requests exist.
            assert mode is GenerationMode.NEGATIVE, operation.label


@pytest.mark.parametrize("name", SERVICES)
def test_generated_requests_get_documented_answers_and_no_5xx(fleet, name):
    running, tenant, credentials = fleet
    svc = running[name]
    platform = {"Authorization": f"Bearer {api.token(svc.url)}"}
    anonymous = api.get(f"{svc.url}/openapi.json", timeout=10, auth=lambda r: r)
    assert anonymous.status_code == 401, anonymous.text
    schema = schemathesis.openapi.from_url(f"{svc.url}/openapi.json", headers=platform,
                                           timeout=30)
    headers = {"platform": platform,
               "tenant": {"Authorization": f"Bearer {credentials.token(audience_of(name))}"}}
    statuses: Counter = Counter()
    for result in schema.get_all_operations():
        _exercise(result.ok(), tenant[0], headers, statuses)
    # Generated requests got past the token and tenant checks into the tenant handlers.
    assert any("{tenant}" in label and status not in (401, 403)
               for label, status in statuses), sorted(statuses.items())
