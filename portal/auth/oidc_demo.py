"""The demo's own OpenID provider, so `portal dev` shows single sign-on on a laptop.

When Node and the provider's packages (`npm ci` in tests/node/oidc-provider) are present and
no OIDC_ISSUER is configured, `portal dev` runs that provider on a free loopback port with
one person, a newcomer in the developers group and the commerce team, and points the
portal at it. The demo's local accounts keep their passwords (AUTH_LOCAL_PASSWORDS=all).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from portal.config import PROJECT_ROOT

PROVIDER_DIR = PROJECT_ROOT / "tests" / "node" / "oidc-provider"
CLIENT_ID = "meridian-portal-demo"
NEWCOMER = {"email": "newcomer@meridian.example", "email_verified": True,
            "name": "Nia Newcomer", "groups": ["developers", "team:commerce"]}
GROUP_MAP = "developers=developer,sre=oncall,eng-leads=manager,platform-admins=admin"
READY_SECONDS = 15.0


@dataclass
class DemoProvider:
    issuer: str
    client_secret: str
    process: subprocess.Popen
    settings: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def available() -> bool:
    """True when the provider can run here (Node and its installed packages)."""
    return bool(shutil.which("node")) and (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen) -> bool:
    end = time.monotonic() + READY_SECONDS
    while time.monotonic() < end and process.poll() is None:
        try:
            if requests.get(url, timeout=1).ok:
                return True
        except requests.RequestException:
            pass  # not listening yet
        time.sleep(0.2)
    return False


def start(config, log_dir: Path) -> DemoProvider | None:
    """Start the demo provider for the portal at PUBLIC_BASE_URL; None when it cannot run."""
    if config.get("OIDC_ISSUER") or not available():
        return None
    port, secret = _free_port(), secrets.token_hex(24)
    issuer, portal = f"http://127.0.0.1:{port}", config["PUBLIC_BASE_URL"].rstrip("/")
    accounts = log_dir / "oidc-demo-accounts.json"
    accounts.write_text(json.dumps({"default": "newcomer", "accounts": {"newcomer": NEWCOMER}}))
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "ISSUER": issuer,
           "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": secret,
           "REDIRECT_URIS": f"{portal}/login/sso/callback",
           "POST_LOGOUT_REDIRECT_URIS": f"{portal}/login", "ACCOUNTS_FILE": str(accounts)}
    node = shutil.which("node")
    assert node is not None  # available() found it
    with open(log_dir / "oidc-provider.log", "ab") as log:
        process = subprocess.Popen([node, str(PROVIDER_DIR / "server.mjs")],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    if not _wait_ready(f"{issuer}/.well-known/openid-configuration", process):
        process.terminate()
        return None
    settings = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": secret, "OIDC_GROUP_MAP": GROUP_MAP,
                "AUTH_LOCAL_PASSWORDS": "all"}
    return DemoProvider(issuer=issuer, client_secret=secret, process=process,
                        settings=settings)
