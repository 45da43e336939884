"""Outbound webhooks cannot reach the portal's own network: internal addresses are refused
unless allowlisted, the vetted address is the one connected to, redirects are not followed
and every failure reads the same. A local HTTP server stands in for a chat webhook."""
import ipaddress

import pytest

from portal.security import outbound
from tests.httpserver import LocalHTTPServer, QuietHandler
from tests.servers import closed_port

INTERNAL = [
    "http://127.0.0.1/hook", "http://localhost:8080/hook", "http://10.0.0.8/hook",
    "http://172.16.4.2/hook", "http://192.168.1.1/hook", "http://169.254.169.254/latest/",
    "http://100.64.0.7/hook", "http://[::1]/hook", "http://[fd00::1]/hook",
    "http://[fe80::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://0.0.0.0/hook",
    "http://2130706433/hook", "http://0x7f.1/hook", "http://[fd00:ec2::254]/latest/",
    "http://224.0.0.1/hook", "http://no-such-host.invalid/hook",
]
NOT_HTTP = ["ftp://93.184.216.34/x", "file:///etc/passwd", "gopher://93.184.216.34/",
            "http://user:pw@93.184.216.34/", "http:///hook", "http://[::1/hook", "hook"]


@pytest.mark.parametrize("url", INTERNAL + NOT_HTTP)
def test_internal_and_odd_urls_are_refused(url):
    with pytest.raises(outbound.OutboundError) as excinfo:
        outbound.vet(url)
    assert str(excinfo.value) == outbound.REFUSED


def test_a_public_address_is_vetted_to_itself():
    target = outbound.vet("https://93.184.216.34/services/T0/B0?x=1")
    assert (target.address, target.port, target.path) == ("93.184.216.34", 443,
                                                          "/services/T0/B0?x=1")


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.0/8", "localhost"])
def test_allowlist_admits_a_deliberate_internal_target(entry):
    target = outbound.vet("http://localhost:9/hook" if entry == "localhost"
                          else "http://127.0.0.1:9/hook", allowlist=[entry])
    assert ipaddress.ip_address(target.address).is_loopback


def test_allowlist_of_one_host_does_not_open_others():
    with pytest.raises(outbound.OutboundError):
        outbound.vet("http://10.1.2.3/hook", allowlist=["127.0.0.1"])


@pytest.fixture
def receiver():
    """A webhook receiver recording each request; /moved redirects to /stolen."""
    seen = []

    class Handler(QuietHandler):
        def do_POST(self):
            seen.append((self.path, self.headers["Host"], self.json_body()))
            if self.path == "/moved":
                self.send_response(307)
                self.send_header("Location", "/stolen")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/wrong-method":
                self.reply(405)
            else:
                self.reply(200)

    with LocalHTTPServer(Handler) as server:
        yield server, seen


def test_loopback_receiver_is_not_called_without_the_allowlist(receiver):
    server, seen = receiver
    with pytest.raises(outbound.OutboundError):
        outbound.post_json(f"{server.url}/hook", {"text": "hi"}, timeout=2)
    assert seen == []


def test_allowlisted_receiver_gets_the_json_with_its_host_header(receiver):
    server, seen = receiver
    url = f"http://localhost:{server.port}/hook?token=1"
    assert outbound.post_json(url, {"text": "hi"}, timeout=2, allowlist=["localhost"]) == 200
    assert seen == [("/hook?token=1", f"localhost:{server.port}", {"text": "hi"})]


def test_redirects_are_not_followed(receiver):
    server, seen = receiver
    with pytest.raises(outbound.OutboundError):
        outbound.post_json(f"{server.url}/moved", {"text": "hi"}, timeout=2,
                           allowlist=["127.0.0.1"])
    assert [path for path, _, _ in seen] == ["/moved"]


def test_every_failure_reads_the_same(receiver):
    server, _ = receiver
    messages = set()
    for url in (f"{server.url}/wrong-method", f"http://127.0.0.1:{closed_port()}/hook"):
        with pytest.raises(outbound.OutboundError) as excinfo:
            outbound.post_json(url, {"text": "hi"}, timeout=2, allowlist=["127.0.0.1"])
        messages.add(str(excinfo.value))
    assert messages == {outbound.FAILURE}
