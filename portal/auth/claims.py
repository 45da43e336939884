"""From an identity provider's claims to the portal's identity: roles, tenant and teams.

Pure functions: the group names of a person (the provider's groups claim) go through the
group map of the settings and become the roles the person holds in the portal, the tenant a
tenant viewer is bound to, and the catalog teams the person belongs to. Nothing here reads
the database; `portal.auth.oidc_accounts` applies the result to an account.
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.auth.models import INTERNAL_ROLES

MAX_GROUPS = 500  # a claim with more groups than this is refused, not truncated
MAX_NAME = 200
TENANT, TEAM = "tenant:", "team:"


class ClaimsRefused(ValueError):
    """Claims that cannot become a portal identity; `reason` is a stable code for the audit log."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class GroupMapping:
    """How group names become roles, a tenant binding and team memberships."""
    targets: tuple[tuple[str, str], ...] = ()  # (group, target) pairs from OIDC_GROUP_MAP
    tenant_prefix: str = TENANT  # a group `<prefix><slug>` makes a viewer of that tenant
    team_prefix: str = TEAM  # a group `<prefix><slug>` is membership of that catalog team

    @classmethod
    def from_config(cls, config) -> GroupMapping:
        return cls(targets=config["OIDC_GROUP_MAP"] or (),
                   tenant_prefix=config["OIDC_TENANT_GROUP_PREFIX"] or "",
                   team_prefix=config["OIDC_TEAM_GROUP_PREFIX"] or "")


@dataclass(frozen=True)
class Identity:
    """What the claims say about a person, once checked."""
    subject: str
    email: str
    name: str
    groups: tuple[str, ...]
    roles: tuple[str, ...]
    tenant_slug: str | None
    team_slugs: tuple[str, ...]


def _check_target(target: str) -> str:
    if target in INTERNAL_ROLES:
        return target
    for prefix in (TENANT, TEAM):
        if target.startswith(prefix) and target[len(prefix):].strip():
            return prefix + target[len(prefix):].strip()
    raise ValueError(f"{target!r} is neither a role ({', '.join(INTERNAL_ROLES)}) nor "
                     "tenant:<slug> or team:<slug>")


def parse_group_map(value: str) -> tuple[tuple[str, str], ...]:
    """Parse `group=target,group=target` (a target is a role, tenant:<slug> or team:<slug>)."""
    pairs = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        group, sep, target = item.rpartition("=")
        if not sep or not group.strip():
            raise ValueError(f"{item!r} is not group=target")
        pairs.append((group.strip(), _check_target(target.strip())))
    return tuple(pairs)


def _groups_of(claims: dict, groups_claim: str) -> tuple[str, ...]:
    raw = claims.get(groups_claim, [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or len(raw) > MAX_GROUPS:
        raise ClaimsRefused("bad_groups", "The identity provider sent an unusable group list.")
    return tuple(sorted({g for g in raw if isinstance(g, str) and 0 < len(g) <= MAX_NAME
                         and "\x00" not in g}))


def targets_of(groups: tuple[str, ...], mapping: GroupMapping) -> set[str]:
    """Every role, `tenant:<slug>` and `team:<slug>` the groups lead to."""
    targets = {target for group, target in mapping.targets if group in groups}
    for group in groups:
        for prefix, kind in ((mapping.tenant_prefix, TENANT), (mapping.team_prefix, TEAM)):
            if prefix and group.startswith(prefix) and group[len(prefix):]:
                targets.add(kind + group[len(prefix):])
    return targets


def _text_claim(claims: dict, name: str, limit: int) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        return ""
    return value.strip()


def identity(claims: dict, *, groups_claim: str, mapping: GroupMapping) -> Identity:
    """Check the claims of a validated ID token and map them to a portal identity.

    Refuses an unverified or missing e-mail, a person in no mapped group, and a person who
    would be both staff and a tenant's viewer or a viewer of two tenants (the account rules
    allow neither, and guessing would grant the wrong access).
    """
    subject = _text_claim(claims, "sub", 255)
    email = _text_claim(claims, "email", 254).lower()
    if not subject or not email or "@" not in email:
        raise ClaimsRefused("no_email", "The identity provider did not say who you are "
                                        "(no subject or e-mail address).")
    if claims.get("email_verified") is not True:
        raise ClaimsRefused("email_unverified", "Your e-mail address is not verified at the "
                                                "identity provider. Verify it there first.")
    groups = _groups_of(claims, groups_claim)
    targets = targets_of(groups, mapping)
    roles = tuple(r for r in INTERNAL_ROLES if r in targets)
    tenants = sorted(t[len(TENANT):] for t in targets if t.startswith(TENANT))
    teams = tuple(sorted(t[len(TEAM):] for t in targets if t.startswith(TEAM)))
    if tenants and (roles or len(tenants) > 1):
        raise ClaimsRefused("ambiguous_groups", "Your groups make you both staff and a "
                            "customer's viewer, or a viewer of two customers. Ask your "
                            "administrator to fix your group memberships.")
    if not roles and not tenants:
        raise ClaimsRefused("no_role", "None of your groups gives access to the portal. "
                                       "Ask your administrator for a group.")
    name = _text_claim(claims, "name", 120) or email.split("@")[0]
    return Identity(subject=subject, email=email, name=name, groups=groups,
                    roles=roles or ("tenant_viewer",),
                    tenant_slug=tenants[0] if tenants else None, team_slugs=teams)
