"""A real OpenBao dev server (Vault API) for the secret rotation tests, with a file audit
device so a test can see every request the portal made to it."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

from tests.servers import free_port, start, stop

ROOT = "root"


def _two_free_ports() -> int:
    # `bao server -dev` also listens on the next port up (its cluster address).
    for _ in range(50):
        port = free_port()
        try:
            requests.get(f"http://127.0.0.1:{port + 1}", timeout=0.2)
        except requests.ConnectionError:
            return port
    raise RuntimeError("no pair of free ports")


@pytest.fixture(scope="module")
def openbao(tmp_path_factory):
    """`bao server -dev` on loopback: its address, the root token and its audit log path."""
    logs = tmp_path_factory.mktemp("openbao")
    port = _two_free_ports()
    addr = f"http://127.0.0.1:{port}"
    audit_log = logs / "audit.log"
    # OpenBao enables audit devices only from its configuration file, not over the API.
    config = logs / "audit.hcl"
    config.write_text(f'audit "file" "to-file" {{\n  options = {{\n    file_path = "{audit_log}"\n'
                      '  }\n}\n')
    proc = start([str(Path(sys.executable).parent / "bao"), "server", "-dev",
                  f"-dev-root-token-id={ROOT}", f"-dev-listen-address=127.0.0.1:{port}",
                  f"-config={config}"],
                 ready=f"{addr}/v1/sys/health", log=logs / "bao.log", what="OpenBao")
    yield {"addr": addr, "token": ROOT, "audit_log": audit_log}
    stop(proc)
