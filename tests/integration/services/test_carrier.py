"""The carrier client against a local fake carrier HTTP server (FedEx/UPS/USPS cannot be
reached from here): the fake checks the documented request (POST /labels with reference,
origin, shipper), answers 503 twice, then a label; the client retries with back-off."""
from __future__ import annotations

import pytest

from platform_services.fulfillment.carrier import Carrier, CarrierUnavailable
from tests.httpserver import LocalHTTPServer, QuietHandler

pytestmark = pytest.mark.integration


@pytest.fixture
def fake_carrier():
    seen = []

    class Handler(QuietHandler):
        def do_POST(self):
            seen.append((self.path, self.json_body()))
            ok = len(seen) > server.failures
            self.reply(200 if ok else 503,
                       {"carrier": "ups", "tracking_number": "1Z999"} if ok else {})

    with LocalHTTPServer(Handler) as server:
        server.failures = 2
        yield server, seen


def test_label_is_retried_with_back_off_until_the_carrier_answers(fake_carrier):
    server, seen = fake_carrier
    carrier = Carrier(server.url, base_delay=0.01)
    label = carrier.label(order_id="o-1", warehouse="us-east-1a", tenant="acme")
    assert (label.carrier, label.tracking_number) == ("ups", "1Z999")
    assert len(seen) == 3
    assert seen[0] == ("/labels", {"reference": "o-1", "origin": "us-east-1a",
                                   "shipper": "acme"})


def test_a_carrier_that_stays_down_raises_after_the_last_attempt(fake_carrier):
    server, seen = fake_carrier
    server.failures = 99
    carrier = Carrier(server.url, base_delay=0.01, attempts=3)
    with pytest.raises(CarrierUnavailable):
        carrier.label(order_id="o-2", warehouse="w", tenant="t")
    assert len(seen) == 3
