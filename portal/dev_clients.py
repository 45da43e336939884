"""The platform's own OAuth clients for `portal dev`: the portal (health and billing
panels), the services' calls to each other, and the load generator.

Fresh secrets every start; the auth service reads only their SHA-256 hashes from a file in
the instance folder (its platform clients file), and each caller gets its id and secret
through its environment (the portal through its config).
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "platform-clients.json"
LOAD_SCOPES = ["tenants:admin", "orders:read", "orders:write", "inventory:read",
               "inventory:write", "worker:read", "worker:write"]
SCOPES = {
    "meridian-portal": ["ops:read", "billing:read", "dlq:admin"],
    "meridian-services": ["inventory:read", "inventory:write"],  # order → inventory
    "meridian-loadgen": LOAD_SCOPES,
}


@dataclass(frozen=True)
class DevClients:
    path: Path
    secrets: dict[str, str]  # client id → secret

    def env(self, client_id: str) -> dict[str, str]:
        """SERVICE_CLIENT_ID / SERVICE_CLIENT_SECRET of `client_id` for a child process."""
        return {"SERVICE_CLIENT_ID": client_id,
                "SERVICE_CLIENT_SECRET": self.secrets[client_id]}

    def portal_config(self, auth_url: str) -> dict[str, str]:
        """The portal's settings for reading the services with its own client."""
        return {"SERVICES_AUTH_URL": auth_url, "SERVICES_CLIENT_ID": "meridian-portal",
                "SERVICES_CLIENT_SECRET": self.secrets["meridian-portal"]}


def create(instance_dir: str) -> DevClients:
    """New secrets for every client, their hashes written to the clients file (0600)."""
    issued = {client_id: secrets.token_urlsafe(32) for client_id in SCOPES}
    entries = [{"client_id": cid, "scopes": SCOPES[cid],
                "secret_sha256": hashlib.sha256(secret.encode()).hexdigest()}
               for cid, secret in issued.items()]
    path = Path(instance_dir).resolve() / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps({"clients": entries}, indent=2))
    return DevClients(path, issued)
