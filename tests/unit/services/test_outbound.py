"""The services' SSRF-safe outbound HTTP: which addresses are refused, the allowlist, and
real POSTs to a local server (a tenant's webhook receiver) that records what arrives."""
from __future__ import annotations

import pytest

from platform_services.common import outbound
from tests.httpserver import LocalHTTPServer, QuietHandler
from tests.servers import closed_port


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost:8080/hook", "http://2130706433/", "http://0177.0.0.1/",
    "http://0.0.0.0/", "http://10.0.0.5/", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://224.0.0.1/",
    "http://[::1]/", "http://[fd00:ec2::254]/", "http://[fc00::1]/", "http://[fe80::1]/",
    "http://[ff02::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a00:1]/", "http://[2002:a00:1::]/", "http://[::7f00:1]/",
    "ftp://8.8.8.8/", "http://user:pw@8.8.8.8/", "http:///nohost", "http://8.8.8.8:99999/",
    "http://host.invalid/",
])
def test_internal_and_malformed_targets_are_refused(url):
    with pytest.raises(outbound.Refused) as refused:
        outbound.vet(url)
    assert str(refused.value) == outbound.REFUSED


@pytest.mark.parametrize("url, address", [
    ("http://8.8.8.8/hook?x=1", "8.8.8.8"), ("https://[2606:4700::1111]:8443/", "2606:4700::1111"),
])
def test_public_addresses_are_allowed_and_pinned(url, address):
    target = outbound.vet(url)
    assert target.address == address and target.path.startswith("/")


def test_the_allowlist_admits_named_hosts_and_networks_only():
    assert outbound.vet("http://127.0.0.1:9/", allowlist=("127.0.0.1",)).address == "127.0.0.1"
    assert outbound.vet("http://10.1.2.3/", allowlist=("10.0.0.0/8",)).address == "10.1.2.3"
    with pytest.raises(outbound.Refused):
        outbound.vet("http://127.0.0.1/", allowlist=("10.0.0.0/8", "localhost"))


class Receiver(QuietHandler):
    """A webhook receiver: /ok answers 204, /moved redirects to /ok, /nope answers 405."""
    seen: list[tuple[str, str, bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.seen.append((self.path, self.headers["Host"], body))
        if self.path.startswith("/ok"):
            self.reply(204)
        elif self.path == "/moved":
            self.send_response(307)
            self.send_header("Location", "/ok-after-redirect")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.reply(405)


@pytest.fixture
def receiver():
    Receiver.seen = []
    with LocalHTTPServer(Receiver) as server:
        yield server


def test_post_goes_to_the_vetted_address_with_the_original_host(receiver):
    target = outbound.vet(f"http://localhost:{receiver.port}/ok?q=1", allowlist=("localhost",))
    status = outbound.post(target, b'{"a":1}', {"Content-Type": "application/json"},
                           timeout=5)
    assert status == 204
    assert Receiver.seen == [("/ok?q=1", f"localhost:{receiver.port}", b'{"a":1}')]


def test_redirects_are_not_followed_and_every_failure_reads_the_same(receiver):
    allow = ("127.0.0.1",)
    messages = []
    for url in (f"{receiver.url}/moved", f"{receiver.url}/nope",
                f"http://127.0.0.1:{closed_port()}/"):
        with pytest.raises(outbound.Refused) as failed:
            outbound.post(outbound.vet(url, allowlist=allow), b"{}", {}, timeout=5)
        messages.append(str(failed.value))
    assert set(messages) == {outbound.UNDELIVERED}
    assert [path for path, _, _ in Receiver.seen] == ["/moved", "/nope"]
