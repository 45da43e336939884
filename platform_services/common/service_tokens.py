"""Client-credentials tokens (RFC 6749 §4.4) for calls from one service (or tool) to
another: one token per audience from the auth service's /oauth/token, cached and fetched
anew shortly before it expires, so callers never send an expired token."""
from __future__ import annotations

import threading
import time

import requests
import requests.auth

REFRESH_MARGIN_SECONDS = 60.0


class TokenUnavailable(requests.RequestException):
    """No token could be obtained (auth service down, or the client was refused)."""


class ClientCredentials:
    """Tokens of one OAuth client, cached per audience until `margin` before expiry."""

    def __init__(self, auth_url: str, client_id: str, client_secret: str, *,
                 timeout: float = 5.0, margin: float = REFRESH_MARGIN_SECONDS) -> None:
        self.token_url = f"{auth_url.rstrip('/')}/oauth/token"
        self.client_id, self.client_secret = client_id, client_secret
        self.timeout, self.margin = timeout, margin
        self.http = requests.Session()
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, audience: str) -> str:
        """A valid access token for `audience` (cached, or fetched now)."""
        with self._lock:
            cached = self._cache.get(audience)
            if cached and time.monotonic() < cached[1]:
                return cached[0]
            token, refresh_at = self._fetch(audience)
            self._cache[audience] = (token, refresh_at)
            return token

    def forget(self, audience: str) -> None:
        """Drop the cached token of `audience` (the callee refused it)."""
        with self._lock:
            self._cache.pop(audience, None)

    def _fetch(self, audience: str) -> tuple[str, float]:
        try:
            response = self.http.post(self.token_url, timeout=self.timeout,
                                      auth=(self.client_id, self.client_secret),
                                      data={"grant_type": "client_credentials",
                                            "audience": audience})
        except requests.RequestException as exc:
            raise TokenUnavailable(f"auth service unreachable: {exc}") from exc
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body["expires_in"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenUnavailable(f"no token from the auth service (HTTP "
                                   f"{response.status_code})") from exc
        # Refresh `margin` early, but never later than half-way for short-lived tokens.
        return token, time.monotonic() + lifetime - min(self.margin, lifetime / 2)


class BearerAuth(requests.auth.AuthBase):
    """A requests auth that sends a token of `credentials` for `audience`."""

    def __init__(self, credentials: ClientCredentials, audience: str) -> None:
        self.credentials, self.audience = credentials, audience

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        prepared.headers["Authorization"] = f"Bearer {self.credentials.token(self.audience)}"
        return prepared
