"""Unit tests of the pure pieces of auth, billing, notification and search."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from pydantic import Field

from platform_services.auth.schemas import NewUser
from platform_services.billing.invoices import compute_lines, usage_amount
from platform_services.billing.schemas import SubscriptionBody, UsageReport
from platform_services.billing.settings import BillingSettings
from platform_services.billing.webhooks import verify
from platform_services.common import settings as service_settings
from platform_services.common.app import ApiError
from platform_services.common.schemas import parse
from platform_services.notification import rendering
from platform_services.notification import service as notification_service
from platform_services.notification.channels import DeliveryFailed, SmtpRelays, signature
from platform_services.notification.settings import NotificationSettings
from platform_services.search.catalog import parse_batch


class Sample(service_settings.EnvSettings):
    relays: service_settings.TextList = Field((), alias="RELAYS", description="r")
    url: service_settings.OptionalText = Field(None, alias="URL", description="u")
    timeout: float = Field(1.0, alias="TIMEOUT", description="t")
    count: int = Field(3, alias="COUNT", description="c")
    on: service_settings.Flag = Field(False, alias="ON", description="o")


def test_settings_parse_every_type_and_name_the_bad_variable():
    loaded = service_settings.load(Sample, {"RELAYS": "a:1, b:2,", "URL": "", "TIMEOUT": "2.5",
                                            "COUNT": "7", "ON": "yes"})
    assert loaded == Sample(relays=("a:1", "b:2"), url=None, timeout=2.5, count=7, on=True)
    assert service_settings.load(Sample, {}) == Sample()
    with pytest.raises(ValueError, match="invalid COUNT"):
        service_settings.load(Sample, {"COUNT": "many"})
    assert ("RELAYS", (), "r") in service_settings.documented(Sample)


@pytest.mark.parametrize("meter, quantity, cents", [
    ("api_calls", 1, 1), ("api_calls", 100, 1), ("api_calls", 101, 2), ("orders", 3, 6),
    ("reports", 1, 5)])
def test_usage_is_priced_in_whole_cents_rounded_up(meter, quantity, cents):
    assert usage_amount(meter, quantity) == cents


def test_invoice_lines_are_the_plan_and_each_meter():
    lines = compute_lines("starter", {"orders": 10, "api_calls": 1000}, "2026-10")
    assert [(line["kind"], line["amount_cents"]) for line in lines] == [("plan", 4900), ("usage", 10),
                                                               ("usage", 20)]


@pytest.mark.parametrize("body", [{"meter": "x"}, {"meter": "orders", "quantity": True},
                                  {"meter": "orders", "quantity": 10**7}])
def test_bad_usage_is_refused(body):
    with pytest.raises(ApiError) as exc:
        parse(UsageReport, body, "invalid usage report")
    assert exc.value.status == 422 and exc.value.fields


@pytest.mark.parametrize("address", ["not-an-address", "a..b@example.com", "ana@example.test",
                                     "ana@localhost", "a b@example.com", "ana@example.com."])
def test_bad_email_addresses_are_a_422_naming_the_field(address):
    for model, body in ((NewUser, {"email": address, "password": "x" * 12}),
                        (SubscriptionBody, {"plan": "starter", "email": address})):
        with pytest.raises(ApiError) as exc:
            parse(model, body, "invalid")
        assert exc.value.status == 422 and set(exc.value.fields) == {"email"}
    with pytest.raises(ApiError) as exc:
        notification_service.parse_request({"template": "hello", "to": address})
    assert exc.value.status == 422 and exc.value.fields == {"to": "an e-mail address"}


@pytest.mark.parametrize("address", ["ana@example.com", "ana.b+ops@mail.acme.example",
                                     "josé@exämple.com"])
def test_valid_email_addresses_are_taken_as_given(address):
    assert parse(NewUser, {"email": address, "password": "x" * 12}, "invalid").email == address
    assert notification_service.parse_request({"template": "hello", "to": address}).to == address


def _header(payload: str, secret: str, ts: int) -> str:
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def test_webhook_verification_uses_stripes_scheme():
    settings = BillingSettings(stripe_webhook_secret="whsec_unit")
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "invoice.paid",
                          "data": {"object": {"id": "in_1"}}})
    now = int(time.time())
    assert verify(payload.encode(), _header(payload, "whsec_unit", now), settings)["id"] == "evt_1"
    for header, code in [(_header(payload, "whsec_other", now), "invalid_signature"),
                         (_header(payload, "whsec_unit", now - 400), "expired"),
                         ("t=1,v1=", "invalid_signature"), (None, "missing_signature")]:
        with pytest.raises(ApiError) as exc:
            verify(payload.encode(), header, settings)
        assert (exc.value.status, exc.value.code) == (400, code)


def test_rendering_is_strict_and_sandboxed():
    ok = rendering.render("Order {{ id }}", "Hi {{ name | upper }}", {"id": 7, "name": "ana"})
    assert (ok.subject, ok.body) == ("Order 7", "Hi ANA")
    for subject, body, data in [("s", "{{ missing }}", {}),
                                ("s", "{{ x.__class__.__subclasses__() }}", {"x": 1}),
                                ("{{ s }}", "b", {"s": "a\nBcc: evil@example.com"})]:
        with pytest.raises(rendering.TemplateFailed):
            rendering.render(subject, body, data)
    with pytest.raises(rendering.TemplateFailed, match="line 2"):
        rendering.check("s", "ok\n{% for %}")


def test_webhook_signature_header_and_smtp_without_relays():
    assert signature("k", 10, b"{}") == "t=10,v1=" + hmac.new(b"k", b"10.{}",
                                                               hashlib.sha256).hexdigest()
    with pytest.raises(DeliveryFailed, match="no SMTP relay configured"):
        SmtpRelays(NotificationSettings()).send(to="a@b.co", subject="s", body="b",
                                                message_id="m")


def test_product_batches_are_validated_field_by_field():
    items = parse_batch([{"sku": "A-1", "name": "Tent", "price_cents": 5, "version": 3}])
    assert items[0]["version"] == 3 and items[0]["category"] == ""
    with pytest.raises(ApiError) as exc:
        parse_batch([{"sku": "A 1", "name": "x", "price_cents": -1}, "nope"])
    assert set(exc.value.fields) == {"products[0].sku", "products[0].price_cents", "products[1]"}


@pytest.mark.parametrize("payload", ['[]', '{"id": 5, "type": "x", "data": {"object": {}}}',
                                     '{"id": "evt", "type": "x", "data": {}}'])
def test_a_signed_body_that_is_not_an_event_is_malformed(payload):
    settings = BillingSettings(stripe_webhook_secret="whsec_unit")
    with pytest.raises(ApiError) as exc:
        verify(payload.encode(), _header(payload, "whsec_unit", int(time.time())), settings)
    assert exc.value.code == "malformed_payload"
