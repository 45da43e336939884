"""SCIM Users: the identity provider's people as portal accounts.

A provisioned person is a portal `User` (userName is the sign-in e-mail, `active` is the
account's flag, displayName or name its display name) plus a `ScimUser` row keeping the
external id, the userName as sent and every other attribute verbatim, so what the identity
provider wrote is what it reads back. Roles come only from group membership (see
`scim_groups`). Deactivating or deleting a person deprovisions them: sessions end, API
tokens are revoked, and the other domains hear of it (on-call flags their shifts).
"""
from __future__ import annotations

import secrets
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    InvalidValueException,
    Meta,
    NotFoundException,
    PatchOp,
    UniquenessException,
)
from scim2_models import User as ScimUserModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import events
from portal.auth import api_tokens, scim_groups, scim_query
from portal.auth.models import User
from portal.auth.scim_models import ScimGroupMember, ScimUser
from portal.db import utcnow
from portal.security import sessions

# Attributes the portal owns and fills in itself on every read.
# `active` is kept as sent too, so a person whose flag was never set reads back without one;
# when it is there, the account's own flag is what the provider reads.
AUTHORITATIVE = ("id", "meta", "userName", "externalId", "groups", "password", "schemas")
# Local accounts have a real argon2 hash; a provisioned person signs in through single
# sign-on only, so theirs can never verify.
NO_PASSWORD = "!scim-provisioned"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _validate(payload: Any, ctx: Context) -> ScimUserModel:
    if not isinstance(payload, dict):
        raise InvalidValueException(detail="The body must be a JSON object.")
    try:
        return ScimUserModel.model_validate(payload, scim_ctx=ctx)
    except ValidationError as exc:
        raise InvalidValueException(detail=_first_error(exc)) from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg')}"[:300] if where else str(err.get("msg"))[:300]


def _display_name(model: ScimUserModel) -> str:
    name = model.name
    parts = [name.given_name, name.family_name] if name else []
    full = (model.display_name or (name.formatted if name else None)
            or " ".join(p for p in parts if p) or model.user_name or "")
    assert model.user_name is not None  # _store's callers validate userName first
    return full.strip()[:120] or model.user_name[:120]


def _user_name(model: ScimUserModel) -> str:
    value = (model.user_name or "").strip()
    if not value or len(value) > 254:
        raise InvalidValueException(detail="userName is required, at most 254 characters.")
    return value


def _taken(session: Session, user_name: str, *, except_user: int | None) -> bool:
    found = session.scalar(select(User).where(func.lower(User.email) == user_name.lower()))
    return found is not None and found.id != except_user


def _store(scim: ScimUser, model: ScimUserModel) -> None:
    """Write a validated resource into the account and its provisioning row."""
    user = scim.user
    user.email = scim.user_name.lower()
    user.name = _display_name(model)
    scim.external_id = (model.external_id or None) and model.external_id[:254]
    dumped = model.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    scim.attributes = {k: v for k, v in dumped.items() if k not in AUTHORITATIVE}
    scim.modified_at = utcnow()


def get(*, session: Session, scim_id: str) -> ScimUser | None:
    """A provisioned (not deleted) person by SCIM id."""
    if not scim_id.isascii() or not scim_id.isdigit() or len(scim_id) > 9:
        return None
    scim = session.get(ScimUser, int(scim_id))
    return scim if scim is not None and scim.deleted_at is None else None


def require(*, session: Session, scim_id: str) -> ScimUser:
    """Like `get`, raising the SCIM 404."""
    scim = get(session=session, scim_id=scim_id)
    if scim is None:
        raise NotFoundException(detail=f"No user {scim_id[:40]}.")
    return scim


def to_resource(*, session: Session, scim: ScimUser, base_url: str,
                groups: list | None = None) -> ScimUserModel:
    """The SCIM representation of a provisioned person (`groups` when already loaded)."""
    data = {**scim.attributes, "schemas": [USER_SCHEMA],
            "userName": scim.user_name}
    if "active" in scim.attributes:
        data["active"] = scim.user.is_active
    if scim.external_id:
        data["externalId"] = scim.external_id
    model: ScimUserModel[Any] = ScimUserModel.model_validate(data)
    model.id = str(scim.user_id)
    if groups is None:
        groups = scim_groups.memberships_of(session=session, user_ids=[scim.user_id],
                                            base_url=base_url)[scim.user_id]
    model.groups = groups or None
    model.meta = Meta(resource_type="User", created=scim.created_at,
                      last_modified=scim.modified_at,
                      location=f"{base_url}/Users/{scim.user_id}")
    return model


def list_users(*, session: Session, flt, page: scim_query.Page,
               base_url: str) -> tuple[int, list[ScimUserModel]]:
    """(total matching, the page of them) in id order.

    Without a filter the page is cut by the database; `userName eq` narrows in the database
    too; any other filter is evaluated by scim2-models on every provisioned person.
    """
    stmt = select(ScimUser).where(ScimUser.deleted_at.is_(None)).order_by(ScimUser.user_id)
    wanted = scim_query.equality_on(flt, "userName")
    if wanted is not None:
        stmt = stmt.join(User).where(func.lower(User.email) == wanted.lower())
    if flt is None:
        total, rows = scim_query.paged(session, stmt, page)
        return total, _resources(session, rows, base_url)
    resources = [r for r in _resources(session, list(session.scalars(stmt)), base_url)
                 if flt.match(r)]
    return len(resources), scim_query.window(resources, page)


def _resources(session: Session, rows: list[ScimUser], base_url: str) -> list[ScimUserModel]:
    groups = scim_groups.memberships_of(session=session, user_ids=[s.user_id for s in rows],
                                        base_url=base_url)
    return [to_resource(session=session, scim=s, base_url=base_url, groups=groups[s.user_id])
            for s in rows]


def create(*, session: Session, payload: Any, mapping) -> ScimUser:
    """Provision a person (or bring back one deleted earlier with the same userName)."""
    model = _validate(payload, Context.RESOURCE_CREATION_REQUEST)
    user_name = _user_name(model)
    revived = session.scalar(select(ScimUser).join(User).where(
        func.lower(User.email) == user_name.lower(), ScimUser.deleted_at.is_not(None)))
    if revived is None and _taken(session, user_name, except_user=None):
        raise UniquenessException(detail=f"userName {user_name} is already taken.")
    if revived is not None:
        scim, revived.deleted_at, revived.created_at = revived, None, utcnow()
    else:
        user = User(email=user_name.lower(), name=user_name[:120], roles=[], tenant_id=None,
                    password_hash=f"{NO_PASSWORD}:{secrets.token_hex(8)}")
        scim = ScimUser(user=user, user_name=user_name, attributes={})
        session.add(scim)
    scim.user_name = user_name
    scim.user.is_active = model.active is not False
    _store(scim, model)
    session.flush()
    scim_groups.sync_roles(session=session, user=scim.user, mapping=mapping)
    return scim


def replace(*, session: Session, scim: ScimUser, payload: Any, by: str) -> ScimUser:
    """PUT: the resource becomes exactly what was sent."""
    model = _validate(payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    _apply(session=session, scim=scim, model=model, by=by)
    return scim


def patch(*, session: Session, scim: ScimUser, payload: Any, base_url: str,
          by: str) -> ScimUser:
    """PATCH: apply the operations (scim2-models' PatchOp) to the current resource."""
    if not isinstance(payload, dict):
        raise InvalidValueException(detail="The body must be a JSON object.")
    try:
        operation = PatchOp[ScimUserModel].model_validate(
            payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    except ValidationError as exc:
        raise InvalidValueException(detail=_first_error(exc)) from exc
    current = to_resource(session=session, scim=scim, base_url=base_url)
    operation.patch(current)
    try:
        model: ScimUserModel[Any] = ScimUserModel.model_validate(
            current.model_dump(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    except ValidationError as exc:
        raise InvalidValueException(detail=_first_error(exc)) from exc
    _apply(session=session, scim=scim, model=model, by=by)
    return scim


def _apply(*, session: Session, scim: ScimUser, model: ScimUserModel, by: str) -> None:
    user_name = _user_name(model)
    if user_name.lower() != scim.user_name.lower() and _taken(
            session, user_name, except_user=scim.user_id):
        raise UniquenessException(detail=f"userName {user_name} is already taken.")
    scim.user_name = user_name
    _store(scim, model)
    if model.active is False and scim.user.is_active:
        deprovision(session=session, user=scim.user, by=by)
    elif model.active is not False:
        scim.user.is_active = True
    session.flush()


def deprovision(*, session: Session, user: User, by: str) -> int:
    """Disable the account, end its sessions, revoke its tokens, tell the other domains."""
    user.is_active = False
    sessions.end_all(user)
    revoked = api_tokens.revoke_all(session=session, user=user, by=by)
    session.flush()
    events.person_deprovisioned.send(session=session, user_id=user.id, email=user.email,
                                     name=user.name, at=utcnow())
    return revoked


def delete(*, session: Session, scim: ScimUser, by: str) -> None:
    """DELETE: deprovision and forget the group memberships; the id answers 404 from now."""
    if scim.user.is_active:
        deprovision(session=session, user=scim.user, by=by)
    for member in session.scalars(select(ScimGroupMember).where(
            ScimGroupMember.user_id == scim.user_id)):
        session.delete(member)
    scim.deleted_at = utcnow()
    session.flush()
