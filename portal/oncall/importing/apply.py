"""Write an `ImportPlan` into the portal: people, teams, schedules with their layered
rotations and overrides, and (when the escalation importer is installed) chains and routes.

Every object a source names is remembered in `oncall_import_mappings` by (source, kind,
external id), so running the same plan again finds what the first run made and changes
nothing. People are matched by e-mail first: someone who already has an account keeps it
untouched. New accounts get the on-call role and no usable password (they sign in through
single sign-on, or an admin sets a password), like the accounts SCIM provisions.

`preview` runs the same code inside a savepoint and rolls it back, so the dry run reports
exactly what `apply_plan` would do and writes nothing.
"""
from __future__ import annotations

import importlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth import audit
from portal.auth import service as accounts
from portal.auth.models import User
from portal.auth.oidc_models import TeamMembership
from portal.catalog import service as catalog
from portal.catalog.models import Team
from portal.oncall.importing import mappings
from portal.oncall.importing.apply_result import ApplyResult
from portal.oncall.importing.apply_schedules import apply_schedule, slug_of
from portal.oncall.importing.plan import ImportPlan, PlanTeam, PlanUser, known_zone
from portal.security.inputs import is_email

IMPORTED_PASSWORD = "!imported"  # not an argon2 hash: no password can ever match it
ESCALATION_MODULE = "portal.oncall.escalation_import"


def _user(session: Session, plan: ImportPlan, person: PlanUser,
          result: ApplyResult) -> User | None:
    email = person.email.strip().lower()
    known = mappings.find(session=session, source=plan.source, kind="user",
                          external_id=person.external_id)
    user = session.get(User, known) if known is not None else None
    if user is None and is_email(email):
        user = accounts.get_by_email(session=session, email=email)
    if user is None:
        if not is_email(email):
            result.notes.append(f"User {person.name!r} has no usable e-mail address; skipped.")
            return None
        zone = person.time_zone if known_zone(person.time_zone) else "UTC"
        user = User(email=email, name=(person.name or email)[:120], roles=["oncall"],
                    tenant_id=None, password_hash=IMPORTED_PASSWORD, timezone=zone)
        session.add(user)
        session.flush()
        result.count("users", "created")
    else:
        result.count("users", "unchanged")  # an existing account is linked, never edited
    mappings.remember(session=session, source=plan.source, kind="user",
                      external_id=person.external_id, local_id=user.id)
    return user


def _team(session: Session, plan: ImportPlan, team: PlanTeam, users: dict[str, User],
          result: ApplyResult) -> Team:
    known = mappings.find(session=session, source=plan.source, kind="team",
                          external_id=team.external_id)
    found = session.get(Team, known) if known is not None else None
    slug = slug_of(team.name)
    found = found or session.scalar(select(Team).where(Team.slug == slug))
    if found is None:
        found = catalog.upsert_team(session=session, slug=slug, name=team.name[:120],
                                    chat_channel=None)
        result.count("teams", "created")
    else:
        result.count("teams", "unchanged")
    mappings.remember(session=session, source=plan.source, kind="team",
                      external_id=team.external_id, local_id=found.id)
    held = set(session.scalars(select(TeamMembership.user_id)
                               .where(TeamMembership.team_slug == found.slug)))
    for member_id in team.member_ids:
        user = users.get(member_id)
        if user is not None and user.id not in held:
            session.add(TeamMembership(user_id=user.id, team_slug=found.slug, source="import"))
            held.add(user.id)
            result.count("team memberships", "created")
    session.flush()
    return found


def _chains(session: Session, plan: ImportPlan, users: dict, teams: dict, schedules: dict,
            result: ApplyResult) -> None:
    """Chains and routes through the escalation importer, given what the rest became
    (external id → local id)."""
    if not plan.chains and not plan.routes:
        return
    try:
        module = importlib.import_module(ESCALATION_MODULE)
    except ModuleNotFoundError:
        result.notes.append("Escalation chains and routes are shown in the dry run only: "
                            "this portal cannot import them yet.")
        return
    ids = [{key: row.id for key, row in found.items()} for found in (users, teams, schedules)]
    chains: dict[str, int] = {}
    for chain in plan.chains:
        done = module.apply_chain(session=session, chain=chain, users=ids[0], teams=ids[1],
                                  schedules=ids[2])
        if done.chain is not None:
            chains[chain.external_id] = done.chain.id
            result.count("escalation chains", "created" if done.created else "unchanged")
        result.notes += [f"Chain {u.name or u.external_id}: {u.reason}" for u in done.unmapped]
    for route in plan.routes:
        done = module.apply_route(session=session, route=route, chains=chains)
        if done.route is not None:
            result.count("routes", "created" if done.created else "unchanged")
        result.notes += [f"Route {u.name or u.external_id}: {u.reason}" for u in done.unmapped]
    result.chains_applied = True


def apply_plan(*, session: Session, plan: ImportPlan, actor: User | None,
               origin: audit.Origin | None = None, record: bool = True) -> ApplyResult:
    """Create or update everything `plan` describes; a second run changes nothing.

    Audited as `oncall.import_apply` with the counts (pass the request's `origin`)."""
    result = ApplyResult()
    users = {p.external_id: u for p in plan.users
             if (u := _user(session, plan, p, result)) is not None}
    teams = {t.external_id: _team(session, plan, t, users, result) for t in plan.teams}
    schedules = {}
    for planned in plan.schedules:
        schedule = apply_schedule(session=session, source=plan.source, planned=planned,
                                  users=users, teams=teams, result=result, actor=actor)
        if schedule is not None:
            schedules[planned.external_id] = schedule
    _chains(session, plan, users, teams, schedules, result)
    if record:
        audit.record(session=session, action="oncall.import_apply", actor=actor,
                     target_type="oncall_import", target_id=plan.source,
                     details=result.as_dict(), origin=origin or audit.Origin())
    return result


def preview(*, session: Session, plan: ImportPlan, actor: User | None) -> ApplyResult:
    """What `apply_plan` would do, computed by applying in a savepoint rolled back."""
    nested = session.begin_nested()
    try:
        return apply_plan(session=session, plan=plan, actor=actor, record=False)
    finally:
        nested.rollback()
