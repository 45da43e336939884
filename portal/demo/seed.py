"""Load Meridian's demo data ; running it twice changes nothing."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal import domains
from portal.auth import service as accounts
from portal.catalog import service as catalog
from portal.demo import meridian
from portal.tenants import service as tenants


def seed_catalog(*, session: Session) -> None:
    """Teams, services with their catalog facts and dependencies, clusters."""
    teams = {slug: catalog.upsert_team(session=session, slug=slug, name=name, chat_channel=chan)
             for slug, (name, chan) in meridian.TEAMS.items()}
    services = {}
    for slug, spec in meridian.SERVICES.items():
        fields = {k: v for k, v in spec.items() if k not in {"team", "depends_on"}}
        fields.update(meridian.CATALOG_FACTS.get(slug, {}))
        fields["oncall_schedule"] = f"{teams[spec['team']].name} ({meridian.ONCALL_ROTATION})"
        services[slug] = catalog.upsert_service(session=session, slug=slug,
                                                team=teams[spec["team"]], **fields)
    for slug, spec in meridian.SERVICES.items():
        degrading = {b for a, b in meridian.DEGRADING_DEPENDENCIES if a == slug}
        catalog.set_dependencies(session=session, service=services[slug],
                                 depends_on=spec["depends_on"], degrading=degrading)
    for name, cluster in meridian.CLUSTERS.items():
        catalog.upsert_cluster(session=session, name=name, **cluster)


def seed_users(*, session: Session, argon2_params: dict | None = None) -> list[tuple]:
    """One demo user per role; existing accounts are left as they are."""
    credentials = []
    for email, name, roles, tenant_slug in meridian.DEMO_USERS:
        password = meridian.demo_password(email)
        if accounts.get_by_email(session=session, email=email) is None:
            tenant = tenants.get_by_slug(session=session, slug=tenant_slug) if tenant_slug else None
            accounts.create(session=session, email=email, name=name, password=password,
                            roles=roles, tenant_id=tenant.id if tenant else None,
                            params=argon2_params)
        credentials.append((", ".join(roles), email, password, tenant_slug or "-"))
    return credentials


def seed_demo(*, session: Session, argon2_params: dict | None = None) -> list[tuple]:
    """Everything: tenants, catalog, users. Returns (roles, email, password, tenant) rows."""
    for tenant in meridian.tenants():
        tenants.upsert(session=session, **tenant)
    seed_catalog(session=session)
    credentials = seed_users(session=session, argon2_params=argon2_params)
    for module in domains.modules("demo"):
        module.seed(session=session)
    return credentials


def credentials_table(rows: list[tuple]) -> str:
    """The demo users' credentials as a text table for the terminal."""
    lines = ["Demo users (roles, e-mail, password, tenant):"]
    lines += [f"  {roles:<14} {email:<36} {password:<32} {tenant}"
              for roles, email, password, tenant in rows]
    return "\n".join(lines)
