"""What the auth service's routes take and answer (its OpenAPI operations). The
credential routes check what they are sent (the admin token, a password, a client
secret), not a bearer token of the platform."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from platform_services.common.openapi import Operation
from platform_services.common.schemas import Body, Email, Query, Text

Scope = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9:._-]{0,63}$")]
Password = Annotated[Text, StringConstraints(max_length=256)]


class NewUser(Body):
    """A user of the tenant (e-mail encrypted, password hashed with argon2id)."""
    email: Email = Field(description="a valid e-mail address")
    password: Annotated[Password, StringConstraints(min_length=12)] = Field(
        description="12 to 256 characters")


class Login(Body):
    """A user's e-mail and password; a wrong pair is a 401."""
    email: Annotated[Text, StringConstraints(max_length=320)] = Field(
        description="the user's e-mail address")
    password: Password = Field(description="the user's password")


class NewCredential(Body):
    """An API key or an OAuth client of the tenant, with its scopes."""
    name: Annotated[Text, StringConstraints(min_length=1, max_length=100)] = Field(
        description="1 to 100 characters")
    scopes: list[Scope] = Field(default_factory=list, max_length=20,
                                description="up to 20 of lowercase letters, digits, : . _ -")


class VerifyQuery(Query):
    """The audience the token must name (the service the edge routes to)."""
    audience: str | None = Field(None, pattern=r"^[a-z][a-z0-9-]{0,62}$",
                                 description="a service audience, e.g. meridian-order")


ADMIN = (401, 403)
OPERATIONS = {
    "auth.create_user": Operation("Create a user (admin token)", body=NewUser, ok=(201,),
                                  errors=(*ADMIN, 409, 503), public=True),
    "auth.login": Operation("Log a user in: a tenant-bound token", body=Login,
                            errors=(401,), public=True),
    "auth.create_api_key": Operation("Create an API key (admin token)", body=NewCredential,
                                     ok=(201,), errors=ADMIN, public=True),
    "auth.revoke_api_key": Operation("Revoke an API key (admin token)", errors=ADMIN,
                                     public=True),
    "auth.verify_api_key": Operation("Check the X-API-Key header", errors=(401,),
                                     public=True),
    "auth.create_client": Operation("Create an OAuth client (admin token)",
                                    body=NewCredential, ok=(201,), errors=ADMIN, public=True),
    "oauth.token": Operation("OAuth2 client credentials grant (form-encoded)",
                             errors=(400, 401), public=True),
    "oauth.revoke": Operation("Revoke a token (RFC 7009: 200 for any token)", public=True),
    "oauth.jwks": Operation("The public signing keys", public=True),
    "oauth.verify": Operation("Verify a bearer token for an audience", query=VerifyQuery,
                              errors=(400, 401), public=True),
    "oauth.rotate": Operation("Rotate the signing key (admin token)", errors=(*ADMIN, 503),
                              public=True),
}
