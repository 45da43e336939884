"""Settings of single sign-on through an OpenID Connect provider."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from portal.auth.claims import TEAM, TENANT, parse_group_map
from portal.config import EnvSettings, OptionalText, from_text

LOCAL_PASSWORD_MODES = ("all", "break-glass")


def parse_local_passwords(value: str) -> str:
    """`all` or `break-glass`."""
    value = value.strip().lower()
    if value not in LOCAL_PASSWORD_MODES:
        raise ValueError(f"expected one of {', '.join(LOCAL_PASSWORD_MODES)}")
    return value


GroupMap = Annotated[tuple[tuple[str, str], ...] | None, from_text(parse_group_map)]
LocalPasswords = Annotated[str, from_text(parse_local_passwords)]


class OidcSettings(EnvSettings):
    """Single sign-on (used by portal.auth.oidc)."""
    OIDC_ISSUER: OptionalText = Field(None, description=(
        "Issuer of the OpenID Connect provider for single sign-on (its discovery document is "
        "read from the issuer's /.well-known/openid-configuration). Unset: no single sign-on."))
    OIDC_CLIENT_ID: OptionalText = Field(None, description="The portal's client id at OIDC_ISSUER.")
    OIDC_CLIENT_SECRET: OptionalText = Field(None, description="Secret of OIDC_CLIENT_ID.")
    OIDC_SCOPES: str = Field("openid email profile groups", description=(
        "Scopes asked for at sign-in (openid and email are required)."))
    OIDC_GROUPS_CLAIM: str = Field("groups", description=(
        "ID token claim holding the person's group names."))
    OIDC_GROUP_MAP: GroupMap = Field(None, description=(
        "Comma-separated group=target pairs; a target is a role (developer, oncall, manager, "
        "admin), tenant:SLUG (viewer of that tenant) or team:SLUG (member of that catalog team), "
        "e.g. `sre=oncall,sre=team:platform,eng-leads=manager`. Roles are recomputed at every "
        "sign-in."))
    OIDC_TENANT_GROUP_PREFIX: str = Field(TENANT, description=(
        "A group named this prefix and a tenant's slug (`tenant:acme-retail`) makes its members "
        "viewers of that tenant (empty: only OIDC_GROUP_MAP counts)."))
    OIDC_TEAM_GROUP_PREFIX: str = Field(TEAM, description=(
        "A group named this prefix and a catalog team's slug (`team:payments`) makes its members "
        "members of that team (empty: only OIDC_GROUP_MAP counts)."))
    OIDC_CLOCK_SKEW_SECONDS: int = Field(60, description=(
        "Clock difference tolerated when checking an ID token's expiry and issue time."))
    OIDC_TIMEOUT: float = Field(5.0, description=(
        "Seconds before a call to the provider (discovery, keys, token) is given up."))
    AUTH_LOCAL_PASSWORDS: LocalPasswords = Field("break-glass", description=(
        "With OIDC_ISSUER set: `break-glass` lets only accounts flagged break-glass sign in with "
        "a password; `all` keeps every local password. Without OIDC_ISSUER every local account "
        "signs in with its password."))


SETTINGS = (OidcSettings,)
