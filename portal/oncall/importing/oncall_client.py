"""Read a Grafana OnCall (OSS or Cloud) through its public HTTP API.

`GET <base>/api/v1/<collection>/` with the API token in the `Authorization` header; every
list answers {"count", "next", "previous", "results"} and `next` is followed until it is
null. The address goes through `portal.security.outbound` (no internal addresses unless
allowlisted), `next` links must stay on the same origin, and the token is only ever put in
that header: never stored, logged or shown.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from portal.oncall.importing.oncall_plan import OnCallObjects, build_plan
from portal.security.outbound import REFUSED, OutboundError, get_json

COLLECTIONS = {"users": "users", "teams": "teams", "schedules": "schedules",
               "shifts": "on_call_shifts", "chains": "escalation_chains",
               "policies": "escalation_policies", "integrations": "integrations",
               "routes": "routes"}
MAX_PAGES = 2000  # per collection (100,000 shifts at 50 a page): a runaway `next` ends here
TOKEN = re.compile(r"[\x21-\x7e]{8,500}")  # printable, no spaces or line breaks


class OnCallImportError(ValueError):
    """The Grafana OnCall could not be read; the message is safe to show."""


def check_url(base_url: str) -> str:
    """The base URL without a trailing slash, or OnCallImportError."""
    base_url = (base_url or "").strip()
    if not base_url or len(base_url) > 500 or "\x00" in base_url:
        raise OnCallImportError("Enter the Grafana OnCall API URL (at most 500 characters).")
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise OnCallImportError("The Grafana OnCall URL is not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.password or parts.query or parts.fragment:
        raise OnCallImportError("The Grafana OnCall URL must be an http(s) URL like "
                                "https://oncall.example.com, without credentials or a query.")
    return base_url.rstrip("/")


def check_token(token: str) -> str:
    """The API token, or OnCallImportError (it becomes a header: no line breaks)."""
    token = (token or "").strip()
    if not TOKEN.fullmatch(token):
        raise OnCallImportError("Enter the Grafana OnCall API token (8 to 500 printable "
                                "characters, no spaces).")
    return token


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _collection(base: str, name: str, token: str, *, allowlist: tuple[str, ...],
                timeout: float) -> list[dict]:
    url: str | None = f"{base}/api/v1/{name}/"
    results: list[dict] = []
    for _ in range(MAX_PAGES):
        if url is None:
            return results
        if _origin(url) != _origin(base):
            raise OnCallImportError(f"Grafana OnCall's {name} list points to another server.")
        try:
            status, body = get_json(url, headers={"Authorization": token}, timeout=timeout,
                                    allowlist=allowlist)
        except OutboundError as exc:
            # Both answers stay deliberately vague about what answered where (no probing),
            # but each says what the person can check.
            if str(exc) == REFUSED:
                raise OnCallImportError(
                    "The Grafana OnCall API URL must name a publicly reachable server; "
                    "private, loopback and link-local addresses (such as 169.254.169.254) "
                    "are refused, and so is a name that does not resolve. Check the URL."
                ) from exc
            raise OnCallImportError(
                "Grafana OnCall did not answer at this URL (connection refused, timeout or "
                "TLS error). Check the API URL and try again.") from exc
        if status in (401, 403):
            raise OnCallImportError(f"Grafana OnCall refused the API token (HTTP {status}).")
        if not 200 <= status < 300:
            raise OnCallImportError(f"Grafana OnCall answered HTTP {status} for {name}.")
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise OnCallImportError(f"Grafana OnCall's {name} answer is not a list of results.")
        results += [r for r in body["results"] if isinstance(r, dict)]
        url = body.get("next") if isinstance(body.get("next"), str) else None
    raise OnCallImportError(f"Grafana OnCall's {name} list has more than {MAX_PAGES} pages.")


def read_oncall(*, base_url: str, token: str, allowlist: tuple[str, ...] = (),
                timeout: float = 10.0) -> OnCallObjects:
    """Everything the importer needs from one Grafana OnCall."""
    base, token = check_url(base_url), check_token(token)
    found = {field: _collection(base, name, token, allowlist=allowlist, timeout=timeout)
             for field, name in COLLECTIONS.items()}
    return OnCallObjects(**found)


def plan_from_api(*, base_url: str, token: str, allowlist: tuple[str, ...] = (),
                  timeout: float = 10.0):
    """The import plan of one Grafana OnCall (OnCallImportError when it cannot be read)."""
    return build_plan(read_oncall(base_url=base_url, token=token, allowlist=allowlist,
                                  timeout=timeout))
