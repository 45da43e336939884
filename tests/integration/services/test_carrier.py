"""The carrier client against a local fake carrier HTTP server (FedEx/UPS/USPS cannot be
reached from here): the fake checks the documented request (POST /labels with reference,
origin, shipper), answers 503 twice, then a label; the client retries with back-off."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from platform_services.fulfillment.carrier import Carrier, CarrierUnavailable

pytestmark = pytest.mark.integration


@pytest.fixture
def fake_carrier():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, body))
            ok = len(seen) > server.failures
            payload = {"carrier": "ups", "tracking_number": "1Z999"} if ok else {}
            data = json.dumps(payload).encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.failures = 2
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, seen
    server.shutdown()
    server.server_close()


def test_label_is_retried_with_back_off_until_the_carrier_answers(fake_carrier):
    server, seen = fake_carrier
    carrier = Carrier(f"http://127.0.0.1:{server.server_port}", base_delay=0.01)
    label = carrier.label(order_id="o-1", warehouse="us-east-1a", tenant="acme")
    assert (label.carrier, label.tracking_number) == ("ups", "1Z999")
    assert len(seen) == 3
    assert seen[0] == ("/labels", {"reference": "o-1", "origin": "us-east-1a",
                                   "shipper": "acme"})


def test_a_carrier_that_stays_down_raises_after_the_last_attempt(fake_carrier):
    server, seen = fake_carrier
    server.failures = 99
    carrier = Carrier(f"http://127.0.0.1:{server.server_port}", base_delay=0.01, attempts=3)
    with pytest.raises(CarrierUnavailable):
        carrier.label(order_id="o-2", warehouse="w", tenant="t")
    assert len(seen) == 3
