"""Platform clients: the OAuth clients of the platform itself (the portal, the services'
calls to each other, the load generator), bound to no tenant.

Tenants' clients live in `auth.oauth_clients` and are made over the API with the admin
token; platform clients come from a JSON file the operator (or `portal dev`) writes, so
there is no chicken-and-egg of needing a token to create the first client:
`{"clients": [{"client_id", "secret_sha256", "scopes": [...]}]}` (only secret hashes).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path


def secret_hash(secret: str) -> str:
    """What the file stores for a client secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def load(path: str | None) -> dict[str, dict]:
    """client_id → {"secret_sha256", "scopes"} from the file at `path` (none: empty)."""
    if not path:
        return {}
    data = json.loads(Path(path).read_text())
    return {str(c["client_id"]): {"secret_sha256": str(c["secret_sha256"]),
                                  "scopes": [str(s) for s in c["scopes"]]}
            for c in data["clients"]}


def authenticate(clients: dict[str, dict], client_id: str | None,
                 secret: str | None) -> dict | None:
    """The platform client these credentials belong to (tenant_id None), or None."""
    entry = clients.get(client_id or "")
    if entry is None or not secret or len(secret) > 200 or \
            not hmac.compare_digest(entry["secret_sha256"], secret_hash(secret)):
        return None
    return {"client_id": client_id, "tenant_id": None, "scopes": entry["scopes"]}


def write(path: Path, clients: dict[str, tuple[str, list[str]]]) -> None:
    """Write the file for `clients` (client_id → (secret, scopes)), readable by owner only."""
    entries = [{"client_id": cid, "secret_sha256": secret_hash(secret), "scopes": scopes}
               for cid, (secret, scopes) in sorted(clients.items())]
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps({"clients": entries}, indent=2))
