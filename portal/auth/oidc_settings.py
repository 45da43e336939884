"""Settings of single sign-on through an OpenID Connect provider."""
from portal.auth.claims import TEAM, TENANT, parse_group_map
from portal.config import Setting, parse_optional

LOCAL_PASSWORD_MODES = ("all", "break-glass")


def parse_local_passwords(value: str) -> str:
    """`all` or `break-glass`."""
    value = value.strip().lower()
    if value not in LOCAL_PASSWORD_MODES:
        raise ValueError(f"expected one of {', '.join(LOCAL_PASSWORD_MODES)}")
    return value


SETTINGS = (
    Setting("OIDC_ISSUER", None, parse_optional,
            "Issuer of the OpenID Connect provider for single sign-on (its discovery document "
            "is read from the issuer's /.well-known/openid-configuration). Unset: no single "
            "sign-on."),
    Setting("OIDC_CLIENT_ID", None, parse_optional, "The portal's client id at OIDC_ISSUER."),
    Setting("OIDC_CLIENT_SECRET", None, parse_optional, "Secret of OIDC_CLIENT_ID."),
    Setting("OIDC_SCOPES", "openid email profile groups", str,
            "Scopes asked for at sign-in (openid and email are required)."),
    Setting("OIDC_GROUPS_CLAIM", "groups", str,
            "ID token claim holding the person's group names."),
    Setting("OIDC_GROUP_MAP", None, parse_group_map,
            "Comma-separated group=target pairs; a target is a role (developer, oncall, "
            "manager, admin), tenant:SLUG (viewer of that tenant) or team:SLUG (member of that "
            "catalog team), e.g. `sre=oncall,sre=team:platform,eng-leads=manager`. Roles are "
            "recomputed at every sign-in."),
    Setting("OIDC_TENANT_GROUP_PREFIX", TENANT, str,
            "A group named this prefix and a tenant's slug (`tenant:acme-retail`) makes its "
            "members viewers of that tenant (empty: only OIDC_GROUP_MAP counts)."),
    Setting("OIDC_TEAM_GROUP_PREFIX", TEAM, str,
            "A group named this prefix and a catalog team's slug (`team:payments`) makes its "
            "members members of that team (empty: only OIDC_GROUP_MAP counts)."),
    Setting("OIDC_CLOCK_SKEW_SECONDS", 60, int,
            "Clock difference tolerated when checking an ID token's expiry and issue time."),
    Setting("OIDC_TIMEOUT", 5.0, float,
            "Seconds before a call to the provider (discovery, keys, token) is given up."),
    Setting("AUTH_LOCAL_PASSWORDS", "break-glass", parse_local_passwords,
            "With OIDC_ISSUER set: `break-glass` lets only accounts flagged break-glass sign in "
            "with a password; `all` keeps every local password. Without OIDC_ISSUER every "
            "local account signs in with its password."),
)
