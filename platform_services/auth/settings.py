"""Settings of the auth service (environment variables, each with a default and a reason)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AuthSettings:
    vault_addr: str | None = field(default=None, metadata={
        "env": "VAULT_ADDR", "help": "Vault (or OpenBao) address. Unset: keys and the PII key "
                                     "live in AUTH_LOCAL_KEY_DIR (development only)."})
    vault_token: str | None = field(default=None, metadata={
        "env": "VAULT_TOKEN", "help": "Vault token of the auth service."})
    vault_kv_mount: str = field(default="secret", metadata={
        "env": "VAULT_KV_MOUNT", "help": "Mount of the KV v2 engine holding the signing keys."})
    vault_key_path: str = field(default="meridian/auth/signing-keys", metadata={
        "env": "VAULT_KEY_PATH", "help": "KV v2 path of the signing key set."})
    vault_transit_mount: str = field(default="transit", metadata={
        "env": "VAULT_TRANSIT_MOUNT", "help": "Mount of the transit engine (PII encryption)."})
    vault_transit_key: str = field(default="meridian-auth-pii", metadata={
        "env": "VAULT_TRANSIT_KEY", "help": "Transit key that encrypts e-mail addresses."})
    vault_timeout: float = field(default=3.0, metadata={
        "env": "VAULT_TIMEOUT", "help": "Seconds before a Vault call gives up."})
    local_key_dir: str | None = field(default=None, metadata={
        "env": "AUTH_LOCAL_KEY_DIR", "help": "Without Vault: folder of the signing keys and "
                                             "PII key (unset: in memory, lost at exit)."})
    issuer: str = field(default="https://auth.meridian.local", metadata={
        "env": "JWT_ISSUER", "help": "`iss` of issued tokens."})
    audience: str = field(default="meridian-api", metadata={
        "env": "JWT_AUDIENCE", "help": "`aud` of issued tokens."})
    token_ttl: int = field(default=900, metadata={
        "env": "JWT_TTL_SECONDS", "help": "Lifetime of access tokens, s."})
    key_refresh_seconds: float = field(default=60.0, metadata={
        "env": "KEY_REFRESH_SECONDS", "help": "How often the key set is re-read from Vault "
                                              "(other replicas' rotations)."})
    rsa_bits: int = field(default=2048, metadata={
        "env": "JWT_RSA_BITS", "help": "Size of new RS256 signing keys."})
    email_pepper: str = field(default="meridian-dev-pepper", metadata={
        "env": "AUTH_EMAIL_PEPPER", "help": "HMAC key of the e-mail lookup hash (set it in "
                                            "production, from Vault)."})
    platform_clients_file: str | None = field(default=None, metadata={
        "env": "AUTH_PLATFORM_CLIENTS_FILE", "help": "JSON file of the platform's own OAuth "
                                                     "clients (no tenant; secret hashes only)."})
    admin_token: str | None = field(default=None, metadata={
        "env": "AUTH_ADMIN_TOKEN", "required_in_production": True,
        "help": "Bearer token of operators: rotate keys, create users, API keys and OAuth "
                "clients. Unset: refused (and, with SERVICE_ENV=production, no start)."})
