"""The real OpenID provider of these tests (tests/node/oidc-provider) and a browser stand-in.

`OpenIDProvider` runs panva's oidc-provider under Node on a free loopback port with the
portal as its client. Its accounts live in a JSON file the tests rewrite between sign-ins;
`rotate_key()` starts it again on the same port with a new signing key.
`Browser` plays the person's browser: the portal's Flask test client for the portal's
URLs, a `requests` session (with the provider's cookies) for the provider's.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey

from tests import servers

PROVIDER_DIR = Path(__file__).resolve().parents[2] / "node" / "oidc-provider"
CLIENT_ID = "meridian-portal"
CLIENT_SECRET = "portal-sso-client-secret-for-tests"
PORTAL_URL = "http://portal.test"


def require_node() -> str:
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("needs Node and `npm ci` in tests/node/oidc-provider")
    return node


class OpenIDProvider:
    def __init__(self, workdir: Path, *, issuer_path: str = "", portal_url: str = PORTAL_URL,
                 **env: str):
        self.node = require_node()
        self.portal_url = portal_url
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = self.url + issuer_path
        self.accounts_file = workdir / f"accounts-{self.port}.json"
        self.log = workdir / f"provider-{self.port}.log"
        self.jwks_file = workdir / f"jwks-{self.port}.json"
        self.extra_env = {"JWKS_FILE": str(self.jwks_file), **env}
        self.accounts: dict[str, dict] = {}
        self.proc: subprocess.Popen | None = None
        self.signing_key = self._new_key()

    def _env(self) -> list[str]:
        values = {"PORT": str(self.port), "ISSUER": self.issuer, "CLIENT_ID": CLIENT_ID,
                  "CLIENT_SECRET": CLIENT_SECRET,
                  "REDIRECT_URIS": f"{self.portal_url}/login/sso/callback",
                  "POST_LOGOUT_REDIRECT_URIS": f"{self.portal_url}/login",
                  "ACCOUNTS_FILE": str(self.accounts_file), **self.extra_env}
        return [f"{k}={v}" for k, v in values.items()]

    def set_account(self, account_id: str, *, email: str, groups: list[str],
                    email_verified: bool = True, name: str | None = None,
                    default: bool = True) -> None:
        """Create or change a person at the provider (read again at every request)."""
        self.accounts[account_id] = {"email": email, "email_verified": email_verified,
                                     "name": name or account_id.title(), "groups": groups}
        document = {"accounts": self.accounts}
        if default or not self.accounts_file.exists():
            document["default"] = account_id
        else:
            document["default"] = json.loads(self.accounts_file.read_text())["default"]
        self.accounts_file.write_text(json.dumps(document))

    def start(self) -> OpenIDProvider:
        if not self.accounts_file.exists():
            self.accounts_file.write_text(json.dumps({"accounts": {}, "default": ""}))
        discovery = f"{self.url}/.well-known/openid-configuration"
        script = str(PROVIDER_DIR / "server.mjs")
        self.proc = servers.start(["env", *self._env(), self.node, script],
                                  ready=discovery, log=self.log, what="oidc-provider")
        return self

    def _new_key(self) -> RSAKey:
        key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, private=True)
        key.ensure_kid()
        self.jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
        return key

    def rotate_key(self) -> None:
        """Start again on the same port with a new signing key (its sessions forgotten)."""
        self.stop()
        self.signing_key = self._new_key()
        self.start()

    def stop(self) -> None:
        if self.proc is not None:
            servers.stop(self.proc)
            self.proc = None

    def signing_kids(self) -> list[str]:
        return [key["kid"] for key in requests.get(f"{self.url}/jwks", timeout=5).json()["keys"]]

    def config(self) -> dict:
        """The portal settings that point single sign-on at this provider."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": CLIENT_SECRET, "PUBLIC_BASE_URL": self.portal_url,
                "OIDC_CLOCK_SKEW_SECONDS": 0}


class Browser:
    """One person's browser: the portal through its test client, the provider over HTTP."""

    def __init__(self, client):
        self.client = client
        self.web = requests.Session()

    def follow_provider(self, url: str, max_hops: int = 15) -> str:
        """Follow the provider's redirects until one leads back to the portal; return it."""
        for _ in range(max_hops):
            if url.startswith(PORTAL_URL):
                return url
            response = self.web.get(url, allow_redirects=False, timeout=10)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["Location"])
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            if response.status_code == 200 and form:  # the sign-out confirmation
                url = self._submit(urljoin(url, unescape(form.group(1))), response.text)
                continue
            raise AssertionError(f"provider answered {response.status_code}: "
                                 f"{response.text[:500]}")
        raise AssertionError("too many redirects at the provider")

    def _submit(self, action: str, page: str) -> str:
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        response = self.web.post(action, data={**fields, "logout": "yes"},
                                 allow_redirects=False, timeout=10)
        assert response.status_code in (302, 303), response.text[:500]
        return urljoin(action, response.headers["Location"])

    def portal_path(self, url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def start_sign_in(self, login_hint: str | None = None) -> str:
        """Press "Sign in with SSO"; return the provider's authorization URL."""
        query = {"login_hint": login_hint} if login_hint else {}
        response = self.client.get("/login/sso", query_string=query)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response.headers["Location"]

    def sign_in(self, login_hint: str | None = None):
        """The whole sign-in; returns the portal's answer to the callback."""
        callback = self.follow_provider(self.start_sign_in(login_hint))
        self.last_callback = callback
        return self.client.get(self.portal_path(callback))


def provider_sign_out_link(page: str) -> str:
    """Where the portal's signed-out page sends the browser next."""
    match = re.search(r'<a href="([^"]+)" id="provider-sign-out"', page)
    assert match, page[:500]
    return unescape(match.group(1))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
