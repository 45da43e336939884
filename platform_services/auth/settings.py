"""Settings of the auth service (environment variables, each with a default and a reason)."""
from __future__ import annotations

from pydantic import Field

from platform_services.common.settings import EnvSettings, OptionalText, Text


class AuthSettings(EnvSettings):
    vault_addr: OptionalText = Field(None, alias="VAULT_ADDR", description=(
        "Vault (or OpenBao) address. Unset: keys and the PII key live in AUTH_LOCAL_KEY_DIR "
        "(development only)."))
    vault_token: OptionalText = Field(None, alias="VAULT_TOKEN", description=(
        "Vault token of the auth service."))
    vault_kv_mount: Text = Field("secret", alias="VAULT_KV_MOUNT", description=(
        "Mount of the KV v2 engine holding the signing keys."))
    vault_key_path: Text = Field("meridian/auth/signing-keys", alias="VAULT_KEY_PATH", description=(
        "KV v2 path of the signing key set."))
    vault_transit_mount: Text = Field("transit", alias="VAULT_TRANSIT_MOUNT", description=(
        "Mount of the transit engine (PII encryption)."))
    vault_transit_key: Text = Field("meridian-auth-pii", alias="VAULT_TRANSIT_KEY", description=(
        "Transit key that encrypts e-mail addresses."))
    vault_timeout: float = Field(3.0, alias="VAULT_TIMEOUT", description=(
        "Seconds before a Vault call gives up."))
    local_key_dir: OptionalText = Field(None, alias="AUTH_LOCAL_KEY_DIR", description=(
        "Without Vault: folder of the signing keys and PII key (unset: in memory, lost at exit)."))
    issuer: Text = Field("https://auth.meridian.local", alias="JWT_ISSUER", description=(
        "`iss` of issued tokens."))
    audience: Text = Field("meridian-api", alias="JWT_AUDIENCE", description=(
        "`aud` of issued tokens."))
    token_ttl: int = Field(900, alias="JWT_TTL_SECONDS", description=(
        "Lifetime of access tokens, s."))
    key_refresh_seconds: float = Field(60.0, alias="KEY_REFRESH_SECONDS", description=(
        "How often the key set is re-read from Vault (other replicas' rotations)."))
    rsa_bits: int = Field(2048, alias="JWT_RSA_BITS", description="Size of new RS256 signing keys.")
    email_pepper: Text = Field("meridian-dev-pepper", alias="AUTH_EMAIL_PEPPER", description=(
        "HMAC key of the e-mail lookup hash (set it in production, from Vault)."))
    platform_clients_file: OptionalText = Field(
        None, alias="AUTH_PLATFORM_CLIENTS_FILE", description=(
            "JSON file of the platform's own OAuth clients (no tenant; secret hashes only)."))
    admin_token: OptionalText = Field(
        None, alias="AUTH_ADMIN_TOKEN", json_schema_extra={"required_in_production": True},
        description="Bearer token of operators: rotate keys, create users, API keys and OAuth "
                    "clients. Unset: refused (and, with SERVICE_ENV=production, no start).")
