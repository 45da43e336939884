"""Tables of the `auth` schema: users, API keys, OAuth2 clients and revoked tokens."""
from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from platform_services.common.tenants import tenants_table

metadata = MetaData(schema="auth")
tenants = tenants_table(metadata)

users = Table(
    "users", metadata,
    Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("tenant_id", Integer, ForeignKey("auth.tenants.id"), nullable=False),
    # PII: the address only as transit ciphertext; lookups go through a keyed hash.
    Column("email_hash", String(64), nullable=False),
    Column("email_ciphertext", Text, nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    UniqueConstraint("tenant_id", "email_hash", name="uq_users_tenant_email"),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("tenant_id", Integer, ForeignKey("auth.tenants.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_api_keys_tenant", "tenant_id"),
)

oauth_clients = Table(
    "oauth_clients", metadata,
    Column("client_id", String(40), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("auth.tenants.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# The durable copy of the revocation list; Redis holds the hot copy with the same expiry.
revoked_tokens = Table(
    "revoked_tokens", metadata,
    Column("jti", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)
