"""Fixtures of the single sign-on tests: a real OpenID provider and a portal pointed at it."""
from __future__ import annotations

import pytest

from portal.app import create_app
from portal.extensions import db
from tests.conftest import PortalClient
from tests.integration.auth_sso.provider import Browser, OpenIDProvider

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    idp = OpenIDProvider(tmp_path_factory.mktemp("idp")).start()
    yield idp
    idp.stop()


def portal_for(base_config, connection, **config):
    application = create_app({**base_config, **config})
    db.bind_to(application, connection)
    application.test_client_class = PortalClient
    return application


@pytest.fixture
def sso_config(provider) -> dict:
    return {**provider.config(),
            "OIDC_GROUP_MAP": (("sre", "oncall"), ("eng-leads", "manager"),
                               ("developers", "developer"), ("sre", "team:platform"))}


@pytest.fixture
def sso_app(base_config, connection, sso_config):
    application = portal_for(base_config, connection, **sso_config)
    with application.app_context():
        yield application
    application.extensions["portal_db"].engine.dispose()


@pytest.fixture
def person(sso_app) -> Browser:
    return Browser(sso_app.test_client())
