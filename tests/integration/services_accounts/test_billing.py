"""The billing service against localstripe (the stripe library with a configurable API
base), real PostgreSQL and Redis; webhook signatures made with Stripe's scheme
(`t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>">`), including tampered and expired ones."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest
import stripe
from sqlalchemy import create_engine, func, select, update

from platform_services.billing.api import build
from platform_services.billing.gateway import StripeGateway
from platform_services.billing.invoices import retry_due
from platform_services.billing.models import invoices, usage, usage_flushes
from platform_services.billing.settings import BillingSettings
from tests.integration.services.servers import TcpProxy
from tests.integration.services.tokens import api
from tests.integration.services_accounts.conftest import REDIS_URL, metric, register

pytestmark = pytest.mark.integration
SECRET = "whsec_test_meridian"


def signed(payload: str, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if at is None else at
    sig = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={ts},v1={sig}", "Content-Type": "application/json"}


def event(event_type: str, obj: dict) -> str:
    return json.dumps({"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": event_type,
                       "data": {"object": obj}})


@pytest.fixture
def billing(config, run_service, localstripe, tenant):
    def starter(api_base: str = localstripe, redis_url: str | None = REDIS_URL):
        settings = BillingSettings(stripe_api_key="sk_test_meridian", stripe_api_base=api_base,
                                   stripe_webhook_secret=SECRET, stripe_timeout=3,
                                   usage_flush_seconds=3600, invoice_retry_seconds=3600)
        running = run_service(build(config("billing", redis_url=redis_url), log=False,
                                    settings=settings))
        register(running.url, tenant)
        return running
    return starter


def _payment_method(localstripe: str) -> str:
    """What the tenant's browser does with Stripe Elements: a card payment method."""
    client = stripe.StripeClient("sk_test_meridian", base_addresses={"api": localstripe})
    return client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}).id


def _subscribe(url: str, slug: str, localstripe: str) -> dict:
    answer = api.put(f"{url}/v1/tenants/{slug}/subscription", timeout=20, json={
        "plan": "growth", "email": "billing@acme.example",
        "payment_method": _payment_method(localstripe)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_usage_invoice_and_payment_webhook_once(billing, tenant, localstripe):
    svc = billing()
    slug = tenant[1]
    sub = _subscribe(svc.url, slug, localstripe)
    assert sub["stripe_customer_id"].startswith("cus_")
    for meter, qty in (("api_calls", 25_000), ("orders", 40), ("api_calls", 5_000)):
        assert api.post(f"{svc.url}/v1/tenants/{slug}/usage", timeout=5,
                        json={"meter": meter, "quantity": qty}).status_code == 202
    read = api.get(f"{svc.url}/v1/tenants/{slug}/usage", timeout=5).json()
    assert {u["meter"]: u["pending"] for u in read["usage"]} == {"api_calls": 30_000,
                                                                  "orders": 40}
    period = read["period"]
    invoice = api.post(f"{svc.url}/v1/tenants/{slug}/invoices", json={"period": period},
                       timeout=30)
    assert invoice.status_code == 201, invoice.text
    body = invoice.json()
    # growth 19900 + 30000 api calls at 0.01 c (300) + 40 orders at 2 c (80)
    assert body["amount_cents"] == 20_280 and body["status"] == "issued"
    assert body["stripe_invoice_id"].startswith("in_")
    again = api.post(f"{svc.url}/v1/tenants/{slug}/invoices", json={"period": period},
                     timeout=10)
    assert again.status_code == 409
    paid = event("invoice.paid", {"id": body["stripe_invoice_id"], "object": "invoice"})
    first = api.post(f"{svc.url}/v1/stripe/webhook", data=paid, headers=signed(paid),
                     timeout=10)
    assert first.status_code == 200 and first.json()["status"] == "applied"
    replay = api.post(f"{svc.url}/v1/stripe/webhook", data=paid, headers=signed(paid),
                      timeout=10)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    listed = api.get(f"{svc.url}/v1/tenants/{slug}/invoices", timeout=5).json()
    assert listed["invoices"][0]["status"] == "paid"


@pytest.mark.parametrize("case, code", [
    ("tampered", "invalid_signature"), ("wrong_secret", "invalid_signature"),
    ("expired", "expired"), ("missing", "missing_signature"), ("not_json", "malformed_payload"),
])
def test_bad_webhooks_are_rejected_counted_and_logged(billing, case, code, caplog):
    svc = billing()
    payload = event("invoice.paid", {"id": "in_x", "object": "invoice"})
    headers = signed(payload)
    if case == "tampered":
        payload = payload.replace("in_x", "in_y")
    elif case == "wrong_secret":
        headers = signed(payload, secret="whsec_someone_else")
    elif case == "expired":
        headers = signed(payload, at=int(time.time()) - 301)
    elif case == "missing":
        headers = {"Content-Type": "application/json"}
    else:
        payload = "{not json"
        headers = signed(payload)
    with caplog.at_level("WARNING", logger="platform_services.billing.webhooks"):
        answer = api.post(f"{svc.url}/v1/stripe/webhook", data=payload, headers=headers,
                          timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == code
    counted = metric(svc.url, f'meridian_business_events_total{{event="stripe_webhook",'
                              f'outcome="{code}",service="billing"}}')
    assert counted == 1.0
    assert any(code in r.getMessage() for r in caplog.records)


def test_oversized_webhook_is_413(billing):
    svc = billing()
    payload = json.dumps({"id": "evt_big", "pad": "x" * 70_000})
    answer = api.post(f"{svc.url}/v1/stripe/webhook", data=payload, headers=signed(payload),
                      timeout=10)
    assert answer.status_code == 413 and answer.json()["error"] == "payload_too_large"


def test_stripe_outage_queues_the_invoice_until_stripe_is_back(billing, tenant, localstripe):
    proxy = TcpProxy(int(localstripe.rsplit(":", 1)[1]))
    try:
        svc = billing(api_base=f"http://127.0.0.1:{proxy.port}")
        _subscribe(svc.url, tenant[1], localstripe)
        proxy.down()
        period = time.strftime("%Y-%m", time.gmtime())
        queued = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/invoices", timeout=30,
                          json={"period": period})
        assert queued.status_code == 202 and queued.json()["status"] == "queued"
        assert "Stripe unreachable" in queued.json()["last_error"]
        proxy.up()
        engine = svc.service.app.extensions["usage_meter"].engine
        with engine.begin() as conn:  # the back-off has passed
            conn.execute(update(invoices).where(invoices.c.tenant_id == tenant[0])
                         .values(next_attempt_at=func.now()))
        settings = BillingSettings(stripe_api_key="sk_test_meridian",
                                   stripe_api_base=f"http://127.0.0.1:{proxy.port}")
        assert retry_due(engine, StripeGateway(settings), settings,
                         svc.service.app.extensions["metrics"]) == 1
        listed = api.get(f"{svc.url}/v1/tenants/{tenant[1]}/invoices", timeout=5).json()
        assert listed["invoices"][0]["status"] == "issued"
        assert listed["invoices"][0]["attempts"] == 2
    finally:
        proxy.close()


def test_usage_flush_is_exactly_once_across_a_crash(billing, tenant, services_db,
                                                    redis_client, run_prefix):
    svc = billing()
    meter = svc.service.app.extensions["usage_meter"]
    for _ in range(3):
        meter.record(tenant[0], "orders", 5)
    # A flush that died after committing: its batch key is still in Redis.
    assert meter.flush() == 1
    period = time.strftime("%Y-%m", time.gmtime())
    leftover = f"{run_prefix}billing:flushing:deadbeef:{tenant[0]}:{period}"
    redis_client.hset(leftover, "orders", 15)
    with meter.engine.begin() as conn:
        conn.execute(usage_flushes.insert().values(flush_id="deadbeef"))
    meter.record(tenant[0], "orders", 1)
    assert meter.flush() == 1
    assert not redis_client.exists(leftover)
    engine = create_engine(services_db)
    with engine.connect() as conn:
        total = conn.scalar(select(usage.c.quantity).where(usage.c.tenant_id == tenant[0]))
    engine.dispose()
    assert total == 16


def test_without_redis_usage_goes_straight_to_postgresql(billing, tenant):
    svc = billing(redis_url=None)
    answer = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/usage", timeout=5,
                      json={"meter": "reports", "quantity": 2})
    assert answer.json()["stored_in"] == "postgresql"
    read = api.get(f"{svc.url}/v1/tenants/{tenant[1]}/usage", timeout=5).json()
    assert read["usage"] == [{"meter": "reports", "flushed": 2, "pending": 0, "total": 2}]


@pytest.mark.parametrize("body, field", [
    ({"meter": "bitcoins", "quantity": 1}, "meter"),
    ({"meter": "orders", "quantity": 0}, "quantity"),
    ({"meter": "orders", "quantity": "5"}, "quantity"),
])
def test_bad_usage_reports_are_422(billing, tenant, body, field):
    svc = billing()
    answer = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/usage", json=body, timeout=5)
    assert answer.status_code == 422 and field in answer.json()["fields"]
