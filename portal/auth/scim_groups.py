"""SCIM Groups: the identity provider's groups, and the roles their membership grants.

Membership becomes access through the same group map as single sign-on
(`portal.auth.claims`): a group maps to a role, `tenant:<slug>` (viewer of that tenant) or
`team:<slug>` (member of that catalog team). A provisioned person's roles, tenant and
provisioned teams are recomputed whenever their memberships change. Groups only ever list
provisioned people as members.
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    GroupMember,
    GroupMembership,
    InvalidValueException,
    Meta,
    NotFoundException,
    PatchOp,
    UniquenessException,
)
from scim2_models import Group as GroupModel
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.auth import claims, scim_query
from portal.auth.models import INTERNAL_ROLES, User
from portal.auth.oidc_models import TeamMembership
from portal.auth.scim_models import ScimGroup, ScimGroupMember, ScimUser
from portal.db import utcnow
from portal.tenants import service as tenants

TEAM_SOURCE = "scim"


def _error(exc: ValidationError) -> InvalidValueException:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return InvalidValueException(detail=f"{where}: {err.get('msg')}"[:300])


def get(*, session: Session, scim_id: str) -> ScimGroup | None:
    """A group by SCIM id."""
    if not scim_id.isascii() or not scim_id.isdigit() or len(scim_id) > 9:
        return None
    return session.get(ScimGroup, int(scim_id))


def require(*, session: Session, scim_id: str) -> ScimGroup:
    """Like `get`, raising the SCIM 404."""
    group = get(session=session, scim_id=scim_id)
    if group is None:
        raise NotFoundException(detail=f"No group {scim_id[:40]}.")
    return group


def memberships_of(*, session: Session, user_ids: list[int],
                   base_url: str) -> dict[int, list[GroupMembership]]:
    """The readOnly `groups` attribute of several users, in one query."""
    found: dict[int, list[GroupMembership]] = {uid: [] for uid in user_ids}
    rows = session.execute(select(ScimGroupMember.user_id, ScimGroup.id, ScimGroup.display_name)
                           .join(ScimGroup).where(ScimGroupMember.user_id.in_(user_ids))
                           .order_by(ScimGroup.id))
    for user_id, group_id, name in rows:
        # pydantic validates the URL into a Reference (the field's type, as mypy reads it)
        ref: Any = f"{base_url}/Groups/{group_id}"
        found[user_id].append(GroupMembership(value=str(group_id), display=name, type="direct",
                                              ref=ref))
    return found


def to_resource(*, group: ScimGroup, base_url: str) -> GroupModel:
    """The SCIM representation of a group."""
    # pydantic validates each URL into a Reference (the field's type, as mypy reads it)
    refs: dict[int, Any] = {m.user_id: f"{base_url}/Users/{m.user_id}" for m in group.members}
    model = GroupModel(display_name=group.display_name, external_id=group.external_id,
                       members=[GroupMember(value=str(m.user_id),
                                            display=m.display or m.user.name, type="User",
                                            ref=refs[m.user_id])
                                for m in group.members] or None)
    model.id = str(group.id)
    model.meta = Meta(resource_type="Group", created=group.created_at,
                      last_modified=group.modified_at, location=f"{base_url}/Groups/{group.id}")
    return model


def list_groups(*, session: Session, flt, page: scim_query.Page,
                base_url: str) -> tuple[int, list[GroupModel]]:
    """(total matching, the page of them) in id order."""
    stmt = select(ScimGroup).order_by(ScimGroup.id)
    wanted = scim_query.equality_on(flt, "displayName")
    if wanted is not None:
        stmt = stmt.where(func.lower(ScimGroup.display_name) == wanted.lower())
    if flt is None:
        total, rows = scim_query.paged(session, stmt, page)
        return total, [to_resource(group=g, base_url=base_url) for g in rows]
    resources = [to_resource(group=g, base_url=base_url) for g in session.scalars(stmt)]
    resources = [r for r in resources if flt.match(r)]
    return len(resources), scim_query.window(resources, page)


def _validate(payload: Any, ctx: Context) -> GroupModel:
    if not isinstance(payload, dict):
        raise InvalidValueException(detail="The body must be a JSON object.")
    try:
        return GroupModel.model_validate(payload, scim_ctx=ctx)
    except ValidationError as exc:
        raise _error(exc) from exc


def _member_ids(session: Session, model: GroupModel) -> dict[int, str | None]:
    """Provisioned user id -> display name as sent, for each member of the resource."""
    ids = {}
    for member in model.members or []:
        value = str(member.value or "")
        scim = session.get(ScimUser, int(value)) if value.isascii() and value.isdigit() \
            and len(value) <= 9 else None
        if scim is None or scim.deleted_at is not None:
            raise InvalidValueException(detail=f"members: no provisioned user {value[:40]}.")
        ids[scim.user_id] = (member.display or None) and member.display[:254]
    return ids


def _apply(*, session: Session, group: ScimGroup, model: GroupModel, mapping) -> None:
    name = (model.display_name or "").strip()
    if not name or len(name) > 254:
        raise InvalidValueException(detail="displayName is required, at most 254 characters.")
    clash = session.scalar(select(ScimGroup).where(
        func.lower(ScimGroup.display_name) == name.lower()))
    if clash is not None and clash is not group:
        raise UniquenessException(detail=f"A group named {name} already exists.")
    wanted = _member_ids(session, model)
    before = {m.user_id for m in group.members}
    group.display_name, group.modified_at = name, utcnow()
    group.external_id = (model.external_id or None) and model.external_id[:254]
    kept = [m for m in group.members if m.user_id in wanted]
    for member in kept:
        member.display = wanted[member.user_id]
    group.members = kept + [ScimGroupMember(user_id=uid, display=wanted[uid])
                            for uid in sorted(set(wanted) - before)]
    session.add(group)
    session.flush()
    for user_id in before | set(wanted):
        user = session.get(User, user_id)
        assert user is not None  # members reference existing users
        sync_roles(session=session, user=user, mapping=mapping)


def create(*, session: Session, payload: Any, mapping) -> ScimGroup:
    """Create a group with its members."""
    model = _validate(payload, Context.RESOURCE_CREATION_REQUEST)
    group = ScimGroup(display_name="", members=[])
    _apply(session=session, group=group, model=model, mapping=mapping)
    return group


def replace(*, session: Session, group: ScimGroup, payload: Any, mapping) -> ScimGroup:
    """PUT: name, external id and members become what was sent."""
    _apply(session=session, group=group, mapping=mapping,
           model=_validate(payload, Context.RESOURCE_REPLACEMENT_REQUEST))
    return group


def patch(*, session: Session, group: ScimGroup, payload: Any, base_url: str,
          mapping) -> ScimGroup:
    """PATCH: add or remove members, rename (scim2-models applies the operations)."""
    if not isinstance(payload, dict):
        raise InvalidValueException(detail="The body must be a JSON object.")
    try:
        operation = PatchOp[GroupModel].model_validate(
            payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    except ValidationError as exc:
        raise _error(exc) from exc
    current = to_resource(group=group, base_url=base_url)
    operation.patch(current)
    _apply(session=session, group=group, model=current, mapping=mapping)
    return group


def delete_group(*, session: Session, group: ScimGroup, mapping) -> None:
    """DELETE: the group goes, and its members lose what it granted."""
    members = [m.user_id for m in group.members]
    session.delete(group)
    session.flush()
    for user_id in members:
        user = session.get(User, user_id)
        assert user is not None  # members reference existing users
        sync_roles(session=session, user=user, mapping=mapping)


def sync_roles(*, session: Session, user: User, mapping: claims.GroupMapping) -> None:
    """Recompute a provisioned person's roles, tenant and teams from their groups.

    A person whose groups would make them both staff and a tenant's viewer, or a viewer of
    two tenants, gets no role at all until the groups are fixed: guessing would grant the
    wrong access.
    """
    names = tuple(session.scalars(select(ScimGroup.display_name).join(ScimGroupMember)
                                  .where(ScimGroupMember.user_id == user.id)))
    targets = claims.targets_of(names, mapping)
    roles = [r for r in INTERNAL_ROLES if r in targets]
    slugs = sorted(t[len(claims.TENANT):] for t in targets if t.startswith(claims.TENANT))
    tenant = tenants.get_by_slug(session=session, slug=slugs[0]) \
        if len(slugs) == 1 and not roles else None
    if tenant is not None:
        roles = ["tenant_viewer"]
    elif slugs:
        roles = []
    if list(user.roles or []) != roles or user.tenant_id != (tenant.id if tenant else None):
        user.roles = roles  # a change of roles ends the person's sessions
        user.tenant_id = tenant.id if tenant else None
    teams = sorted(t[len(claims.TEAM):] for t in targets if t.startswith(claims.TEAM))
    session.execute(delete(TeamMembership).where(TeamMembership.user_id == user.id,
                                                 TeamMembership.source == TEAM_SOURCE))
    held = set(session.scalars(select(TeamMembership.team_slug)
                               .where(TeamMembership.user_id == user.id)))
    session.add_all(TeamMembership(user_id=user.id, team_slug=slug, source=TEAM_SOURCE)
                    for slug in teams if slug not in held)
    session.flush()
