"""SCIM 2.0 endpoints (RFC 7644) under /scim/v2 for the identity provider.

Every request needs a bearer API token with the `scim` scope whose owner is an admin; a
browser session never reaches these endpoints, so they need no CSRF token. Errors are
SCIM Error messages. Changes run in a savepoint, so a refused request leaves nothing half
written, and each one is audited with the token that made it.
"""
from __future__ import annotations

import json
from functools import wraps

from flask import current_app, request
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    ListResponse,
    NotFoundException,
    ResponseParameters,
    SCIMException,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from portal.auth import bearer, claims, scim_discovery, scim_groups, scim_query, scim_users
from portal.auth.access import audit_action
from portal.auth.blueprint import scim_bp as bp
from portal.extensions import csrf, db

csrf.exempt(bp)
SCIM_JSON = "application/scim+json"
ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _base_url() -> str:
    return request.host_url.rstrip("/") + (bp.url_prefix or "")


def _reply(body: dict, status: int = 200, location: str | None = None):
    headers = {"Content-Type": SCIM_JSON, "Cache-Control": "no-store"}
    if location:
        headers["Location"] = location
    return json.dumps(body), status, headers


def _error(status: int, detail: str, scim_type: str | None = None):
    return _reply(Error(status=status, detail=detail, scim_type=scim_type).model_dump(), status)


def scim_endpoint(view):
    """Require a `scim` token and turn SCIM and query errors into SCIM Error replies."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        resolved = bearer.resolution()
        if resolved is None or resolved.user is None:
            body, status, headers = _error(
                401, "Send an API token with the scim scope as a bearer token.")
            return body, status, {**headers, "WWW-Authenticate": 'Bearer realm="meridian-portal"'}
        if not resolved.scim:
            return _error(403, "This token lacks the scim scope (or its owner is no admin).")
        try:
            return view(*args, **kwargs)
        except SCIMException as exc:
            return _reply(exc.to_error().model_dump(), exc.status)
        except scim_query.BadQuery as exc:
            return _error(400, str(exc), exc.scim_type)
        except IntegrityError:  # a concurrent request took the same userName or group name
            return _error(409, "Another resource already has that unique value.", "uniqueness")
    return wrapped


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _error(exc.code or 500, exc.description or exc.name)


def _body():
    payload = request.get_json(force=True, silent=True)
    if payload is None:
        raise scim_query.BadQuery("The body is not JSON.", "invalidSyntax")
    return payload


def _params() -> ResponseParameters:
    raw = {k: request.args.get(k) for k in ("attributes", "excludedAttributes")
           if request.args.get(k)}
    try:
        return ResponseParameters.model_validate(raw)
    except ValidationError as exc:
        raise scim_query.BadQuery("Unusable attributes or excludedAttributes.",
                                  "invalidPath") from exc


def _mapping() -> claims.GroupMapping:
    return claims.GroupMapping.from_config(current_app.config)


def _token_id() -> int:
    resolved = bearer.resolution()
    # SCIM routes take bearer tokens only: every request that gets here resolved one.
    assert resolved is not None and resolved.token is not None
    return resolved.token.id


def _token_details(**details) -> dict:
    return {"token_id": _token_id(), **details}


def _resource(model, status: int = 200):
    body = model.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE,
                            response_parameters=_params())
    return _reply(body, status, model.meta.location if status == 201 else None)


def _listing(total: int, resources: list, page: scim_query.Page):
    resource_type = type(resources[0]) if resources else scim_discovery.MODELS["User"]
    # The resource type is known at run time only, which static checkers cannot follow.
    body = ListResponse[resource_type](  # type: ignore[valid-type]
        total_results=total, start_index=page.start, items_per_page=len(resources),
        resources=resources)
    return _reply(body.model_dump(scim_ctx=Context.SEARCH_RESPONSE,
                                  response_parameters=_params()))


def _discovery(method_ok: bool):
    if not method_ok:
        return _error(405, "Discovery endpoints answer GET only.")
    return None


@bp.route("/ServiceProviderConfig", methods=ALL)
@scim_endpoint
def service_provider_config():
    """What this SCIM server supports."""
    return _discovery(request.method == "GET") or _reply(
        scim_discovery.service_provider_config(_base_url()).model_dump(
            scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _discovery_list(items: list, item_id: str | None):
    if item_id is not None:
        found = [i for i in items if i.id == item_id]
        if not found:
            raise NotFoundException(detail=f"No {item_id[:80]} here.")
        return _reply(found[0].model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    resource_type = type(items[0])
    # The resource type is known at run time only, which static checkers cannot follow.
    body = ListResponse[resource_type](  # type: ignore[valid-type]
        total_results=len(items), start_index=1, items_per_page=len(items), resources=items)
    return _reply(body.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


@bp.route("/ResourceTypes", methods=ALL)
@bp.route("/ResourceTypes/<item_id>", methods=ALL)
@scim_endpoint
def resource_types(item_id: str | None = None):
    """The User and Group resource types."""
    return _discovery(request.method == "GET") or _discovery_list(
        scim_discovery.resource_types(_base_url()), item_id)


@bp.route("/Schemas", methods=ALL)
@bp.route("/Schemas/<item_id>", methods=ALL)
@scim_endpoint
def schemas(item_id: str | None = None):
    """The User and Group schemas."""
    return _discovery(request.method == "GET") or _discovery_list(
        scim_discovery.schemas(_base_url()), item_id)


@bp.get("/Users")
@scim_endpoint
def list_users():
    """Users, filtered (e.g. `userName eq "…"`) and paginated."""
    return _list("User", scim_users.list_users)


@bp.post("/Users")
@scim_endpoint
def create_user():
    """Provision a person."""
    with db.session.begin_nested():
        scim = scim_users.create(session=db.session, payload=_body(), mapping=_mapping())
    audit_action("scim.user_create", target_type="user", target_id=scim.user_id,
                 details=_token_details(userName=scim.user_name, active=scim.user.is_active))
    return _resource(scim_users.to_resource(session=db.session, scim=scim,
                                            base_url=_base_url()), 201)


@bp.route("/Users/<scim_id>", methods=["GET", "PUT", "PATCH", "DELETE"])
@scim_endpoint
def user(scim_id: str):
    """Read, replace, patch (e.g. `active: false`) or delete one person."""
    scim = scim_users.require(session=db.session, scim_id=scim_id)
    if request.method == "GET":
        return _resource(scim_users.to_resource(session=db.session, scim=scim,
                                                base_url=_base_url()))
    was_active, by = scim.user.is_active, f"scim:{_token_id()}"
    with db.session.begin_nested():
        if request.method == "DELETE":
            scim_users.delete(session=db.session, scim=scim, by=by)
        elif request.method == "PUT":
            scim_users.replace(session=db.session, scim=scim, payload=_body(), by=by)
        else:
            scim_users.patch(session=db.session, scim=scim, payload=_body(),
                             base_url=_base_url(), by=by)
    action = {"DELETE": "scim.user_delete", "PUT": "scim.user_replace"}.get(
        request.method, "scim.user_patch")
    audit_action(action, target_type="user", target_id=scim.user_id, details=_token_details(
        userName=scim.user_name, deprovisioned=was_active and not scim.user.is_active))
    if request.method == "DELETE":
        return "", 204
    return _resource(scim_users.to_resource(session=db.session, scim=scim,
                                            base_url=_base_url()))


@bp.get("/Groups")
@scim_endpoint
def list_groups():
    """Groups, filtered (e.g. `displayName eq "…"`) and paginated."""
    return _list("Group", scim_groups.list_groups)


def _list(resource_type: str, lister):
    """One page of a resource type's list, with the request's filter and pagination."""
    page = scim_query.page(request.args)
    flt = scim_query.parse_filter(scim_discovery.MODELS[resource_type],
                                  request.args.get("filter"))
    total, found = lister(session=db.session, flt=flt, page=page, base_url=_base_url())
    return _listing(total, found, page)


@bp.post("/Groups")
@scim_endpoint
def create_group():
    """Create a group with its members."""
    with db.session.begin_nested():
        group = scim_groups.create(session=db.session, payload=_body(), mapping=_mapping())
    audit_action("scim.group_create", target_type="scim_group", target_id=group.id,
                 details=_token_details(displayName=group.display_name,
                                        members=[m.user_id for m in group.members]))
    return _resource(scim_groups.to_resource(group=group, base_url=_base_url()), 201)


@bp.route("/Groups/<scim_id>", methods=["GET", "PUT", "PATCH", "DELETE"])
@scim_endpoint
def group(scim_id: str):
    """Read, replace, patch (members add/remove) or delete one group."""
    found = scim_groups.require(session=db.session, scim_id=scim_id)
    if request.method == "GET":
        return _resource(scim_groups.to_resource(group=found, base_url=_base_url()))
    group_id, name = found.id, found.display_name
    with db.session.begin_nested():
        if request.method == "DELETE":
            scim_groups.delete_group(session=db.session, group=found, mapping=_mapping())
        elif request.method == "PUT":
            scim_groups.replace(session=db.session, group=found, payload=_body(),
                                mapping=_mapping())
        else:
            scim_groups.patch(session=db.session, group=found, payload=_body(),
                              base_url=_base_url(), mapping=_mapping())
    action = {"DELETE": "scim.group_delete", "PUT": "scim.group_replace"}.get(
        request.method, "scim.group_patch")
    audit_action(action, target_type="scim_group", target_id=group_id,
                 details=_token_details(displayName=name))
    if request.method == "DELETE":
        return "", 204
    return _resource(scim_groups.to_resource(group=found, base_url=_base_url()))


@bp.route("/.search", methods=["POST"])
@scim_endpoint
def search_all():
    """Searching several resource types at once is not offered (RFC 7644 §3.4.3)."""
    return _error(501, "Search across resource types is not supported; "
                       "GET /Users or /Groups with a filter.")


@bp.route("/<path:anything>", methods=ALL)
@scim_endpoint
def unknown(anything: str):
    """Anything else under /scim/v2 is a SCIM 404."""
    return _error(404, "There is no such SCIM endpoint.")
