"""The services' token checks and input bounds without a database: RS256 tokens signed
here, verified against a JWKS served over real HTTP (a local server standing in for the
auth service's /.well-known/jwks.json, same document shape), the tenant binding, the
scopes, and the JSON limits of every request body."""
from __future__ import annotations

import threading
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from jwt.algorithms import RSAAlgorithm

from platform_services.common import jwt_auth
from platform_services.common.app import ApiError, json_body
from platform_services.common.service_tokens import ClientCredentials, TokenUnavailable
from platform_services.common.tenants import parse_ref
from tests.httpserver import LocalHTTPServer, QuietHandler

ISSUER, AUDIENCE = "https://auth.test", "meridian-order"


class Keys:
    """An RSA key set published as a JWKS; `rotate()` adds a new current key."""

    def __init__(self) -> None:
        self.keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.fetches = 0
        self.rotate()

    def rotate(self) -> str:
        kid = uuid.uuid4().hex[:12]
        self.keys.insert(0, (kid, rsa.generate_private_key(public_exponent=65537,
                                                           key_size=2048)))
        return kid

    def jwks(self) -> dict:
        return {"keys": [{**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid,
                          "use": "sig", "alg": "RS256"} for kid, key in self.keys]}

    def sign(self, **claims) -> str:
        kid, key = self.keys[0]
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "client-1", "iat": now,
                "exp": now + 300, "scope": "orders:read", **claims}
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key,
                          algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def keys():
    published = Keys()

    class Jwks(QuietHandler):
        def do_GET(self):
            published.fetches += 1
            self.reply(200, published.jwks())

    with LocalHTTPServer(Jwks) as server:
        published.url = f"{server.url}/.well-known/jwks.json"
        yield published


@pytest.fixture
def verifier(keys):
    source = jwt_auth.JwksKeys(keys.url, cache_seconds=300)
    return jwt_auth.Verifier(source.key_for, ISSUER, AUDIENCE)


def test_a_valid_token_names_its_caller_tenant_and_scopes(keys, verifier):
    principal = verifier.verify(keys.sign(tenant_id=42, scope="orders:read orders:write"))
    assert principal == jwt_auth.Principal("client-1", 42,
                                           frozenset({"orders:read", "orders:write"}))
    assert verifier.verify(keys.sign()).tenant_id is None  # a platform client


@pytest.mark.parametrize("claims, reason", [
    ({"exp": int(time.time()) - 60}, "expired"),
    ({"aud": "meridian-inventory"}, "not for meridian-order"),
    ({"iss": "https://evil.test"}, "invalid token"),
    ({"exp": None}, "invalid token"),
    ({"tenant_id": "42"}, "tenant_id"),
    ({"tenant_id": True}, "tenant_id"),
    ({"tenant_id": 2**31}, "tenant_id"),
])
def test_tokens_that_must_not_pass(keys, verifier, claims, reason):
    with pytest.raises(jwt_auth.TokenInvalid, match=reason):
        verifier.verify(keys.sign(**claims))


def test_forged_tokens_are_refused(keys, verifier):
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "iat": 0, "exp": 2**40}
    public_pem = keys.jwks()["keys"][0]["n"]
    for forged in (jwt.encode(claims, public_pem, algorithm="HS256"),  # alg confusion
                   jwt.encode(claims, None, algorithm="none"),
                   "not.a.jwt"):
        with pytest.raises(jwt_auth.TokenInvalid):
            verifier.verify(forged)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signed = jwt.encode(claims, stranger, algorithm="RS256",
                        headers={"kid": keys.keys[0][0]})  # a known kid, the wrong key
    with pytest.raises(jwt_auth.TokenInvalid):
        verifier.verify(signed)


def test_the_jwks_is_cached_and_refetched_for_a_new_kid(keys, verifier):
    verifier.verify(keys.sign())
    verifier.verify(keys.sign())
    assert keys.fetches == 1
    keys.rotate()
    time.sleep(jwt_auth.UNKNOWN_KID_COOLDOWN_SECONDS + 0.1)
    assert verifier.verify(keys.sign()).subject == "client-1"  # the rotated key is honoured
    assert keys.fetches == 2


def test_an_unreachable_jwks_is_503_not_a_pass():
    source = jwt_auth.JwksKeys("http://127.0.0.1:9/.well-known/jwks.json", timeout=0.5)
    token = Keys().sign()
    with pytest.raises(ApiError) as caught:
        jwt_auth.Verifier(source.key_for, ISSUER, AUDIENCE).verify(token)
    assert caught.value.status == 503


def test_scopes_follow_the_method_unless_the_policy_names_one():
    policy = jwt_auth.Policy("orders", jwt_auth.REGISTRY_SCOPES)
    assert policy.scope_for("orders.list_orders", "GET") == "orders:read"
    assert policy.scope_for("orders.create_order", "POST") == "orders:write"
    assert policy.scope_for("tenants.put_tenant", "PUT") == "tenants:admin"
    assert policy.scope_for("metrics_endpoint", "GET") == "ops:read"


def _authorize(principal, scope, tenant_ref, known=None):
    jwt_auth.authorize(principal, scope, tenant_ref, lambda ref: (known or {}).get(ref))


def test_a_tenant_token_reaches_its_own_tenant_by_slug_or_id_only():
    mine = jwt_auth.Principal("c", 7, frozenset({"orders:read", "tenants:admin", "ops:read"}))
    _authorize(mine, "orders:read", "acme", {"acme": 7})
    _authorize(mine, "orders:read", "7", {"7": 7})
    for ref in ("other", "8", "unknown"):
        with pytest.raises(ApiError) as caught:
            _authorize(mine, "orders:read", ref, {"other": 8, "8": 8})
        assert caught.value.status == 404 and caught.value.code == "unknown_tenant"
    for scope, ref in (("tenants:admin", None), ("ops:read", None)):
        with pytest.raises(ApiError) as caught:  # platform operations: never a tenant's
            _authorize(mine, scope, ref)
        assert caught.value.status == 403
    with pytest.raises(ApiError) as caught:
        _authorize(mine, "orders:write", "acme", {"acme": 7})
    assert caught.value.status == 403
    assert 'error="insufficient_scope"' in caught.value.headers["WWW-Authenticate"]


@pytest.mark.parametrize("ref, parsed", [
    ("42", 42), ("0042", 42), ("acme-retail", "acme-retail"), (str(2**31 - 1), 2**31 - 1),
    ("²", None), ("٢", None), ("１", None), ("9" * 20, None), (str(2**31), None), ("0", None),
    ("-1", None), ("Acme", None), ("", None), ("a" * 64, None),
])
def test_tenant_refs_are_ascii_ids_in_range_or_slugs(ref, parsed):
    assert parse_ref(ref) == parsed


def _json(body: bytes, content_type: str = "application/json"):
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    with app.test_request_context("/", method="POST", data=body,
                                  headers={"Content-Type": content_type}):
        return json_body()


@pytest.mark.parametrize("body, status", [
    (b'{"a": "x\\u0000"}', 400), (b'{"a\\u0000": 1}', 400), (b'{"a": ["\\u0000"]}', 400),
    (b'{"a": ' + b"[" * 33 + b"]" * 33 + b"}", 400),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
    (b'{"a": 100000000000000000000}', 422), (b'{"a": [-9223372036854775809]}', 422),
    (b'{"a": ' + b"9" * 5000 + b"}", 400), (b'{"a": "\xff"}', 400), (b"[1]", 422),
])
def test_request_bodies_are_bounded(body, status):
    with pytest.raises(ApiError) as caught:
        _json(body)
    assert caught.value.status == status


def test_bounded_bodies_within_the_limits_pass():
    deep = b'{"a": ' + b"[" * 30 + b"]" * 30 + b"}"
    assert _json(deep)["a"] and _json(b'{"n": 9223372036854775807}')["n"] == 2**63 - 1


class TokenEndpoint(QuietHandler):
    """Stands in for the auth service's /oauth/token (RFC 6749 §4.4 request shape)."""
    issued: list[str] = []
    lifetime = 120
    lock = threading.Lock()

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = dict(pair.split("=", 1) for pair in self.rfile.read(length).decode().split("&"))
        if not self.headers.get("Authorization", "").startswith("Basic ") or \
                form.get("grant_type") != "client_credentials":
            self.reply(401, {"error": "invalid_client"})
            return
        with self.lock:
            token = f"t{len(self.issued)}-{form['audience']}"
            self.issued.append(token)
        self.reply(200, {"access_token": token, "token_type": "Bearer",
                         "expires_in": self.lifetime})


def test_client_tokens_are_cached_per_audience_and_renewed_before_expiry():
    TokenEndpoint.issued = []
    with LocalHTTPServer(TokenEndpoint) as server:
        creds = ClientCredentials(server.url, "svc", "secret", margin=60)
        assert creds.token("meridian-inventory") == creds.token("meridian-inventory")
        assert creds.token("meridian-order") != creds.token("meridian-inventory")
        assert len(TokenEndpoint.issued) == 2
        TokenEndpoint.lifetime = 1  # short-lived: renewed half-way, never sent expired
        creds.forget("meridian-order")
        first = creds.token("meridian-order")
        time.sleep(0.6)
        assert creds.token("meridian-order") != first
        TokenEndpoint.lifetime = 120


def test_no_token_is_an_outage_of_the_call_not_an_anonymous_call():
    with pytest.raises(TokenUnavailable):
        ClientCredentials("http://127.0.0.1:9", "svc", "secret", timeout=0.5).token("x")


class CountingKeys:
    """The JWKS key source, counting how often a signature check asked for a key."""

    def __init__(self, keys: Keys) -> None:
        self.source = jwt_auth.JwksKeys(keys.url, cache_seconds=300)
        self.calls = 0

    def key_for(self, token: str):
        self.calls += 1
        return self.source.key_for(token)


def _cached_verifier(keys: Keys, now: list[float], **cache):
    source = CountingKeys(keys)
    verified = jwt_auth.VerifiedTokens(clock=lambda: now[0], **cache)
    return jwt_auth.Verifier(source.key_for, ISSUER, AUDIENCE, verified), source


def test_a_verified_token_is_checked_once_until_it_expires(keys):
    now = [time.time()]
    verifier, source = _cached_verifier(keys, now, max_age=3600)
    token = keys.sign(tenant_id=42, exp=int(now[0]) + 30)
    first = verifier.verify(token)
    assert verifier.verify(token) == first == jwt_auth.Principal(
        "client-1", 42, frozenset({"orders:read"}))
    assert source.calls == 1
    now[0] += 29 + jwt_auth.LEEWAY_SECONDS
    verifier.verify(token)
    assert source.calls == 1
    # Past exp and the leeway the cache no longer answers: the full check runs again
    # (and refuses an expired token, as test_tokens_that_must_not_pass shows).
    now[0] += 1
    verifier.verify(token)
    assert source.calls == 2


def test_a_cached_verification_ends_after_max_age_even_before_expiry(keys):
    now = [time.time()]
    verifier, source = _cached_verifier(keys, now, max_age=60)
    token = keys.sign()
    verifier.verify(token)
    now[0] += 59
    verifier.verify(token)
    assert source.calls == 1
    now[0] += 2
    verifier.verify(token)
    assert source.calls == 2


def test_refused_tokens_are_never_cached_and_the_cache_is_bounded(keys):
    now = [time.time()]
    verifier, source = _cached_verifier(keys, now, size=2)
    wrong_audience = keys.sign(aud="meridian-inventory")
    for _ in range(2):
        with pytest.raises(jwt_auth.TokenInvalid, match="not for"):
            verifier.verify(wrong_audience)
    assert source.calls == 2
    tokens = [keys.sign(sub=f"client-{n}") for n in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier.cache._entries) == 2
    verifier.verify(tokens[2])
    assert source.calls == 5  # the newest is remembered
    assert verifier.verify(tokens[0]).subject == "client-0"
    assert source.calls == 6  # the oldest was dropped, so it was checked again
