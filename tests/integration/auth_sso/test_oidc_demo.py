"""The demo's own provider (`portal dev`): the SSO button signs in the newcomer."""
from __future__ import annotations

import pytest
import requests

from portal.auth import oidc_accounts, oidc_demo
from portal.auth.claims import parse_group_map
from portal.auth.models import User
from tests.integration.auth_sso.conftest import portal_for
from tests.integration.auth_sso.provider import PORTAL_URL, Browser, require_node

pytestmark = pytest.mark.integration


def test_the_demo_provider_signs_in_the_newcomer(base_config, connection, session, tmp_path):
    require_node()
    assert oidc_demo.start({"OIDC_ISSUER": "https://idp.example"}, tmp_path) is None
    demo = oidc_demo.start({"PUBLIC_BASE_URL": PORTAL_URL}, tmp_path)
    assert demo is not None
    try:
        discovery = requests.get(f"{demo.issuer}/.well-known/openid-configuration", timeout=5)
        assert discovery.json()["issuer"] == demo.settings["OIDC_ISSUER"]
        settings = {**demo.settings,
                    "OIDC_GROUP_MAP": parse_group_map(demo.settings["OIDC_GROUP_MAP"]),
                    "PUBLIC_BASE_URL": PORTAL_URL}
        app = portal_for(base_config, connection, **settings)
        with app.app_context():
            assert Browser(app.test_client()).sign_in().status_code == 303
        user = session.query(User).filter_by(email=oidc_demo.NEWCOMER["email"]).one()
        assert user.roles == ["developer"]
        assert oidc_accounts.teams_of(session=session, user=user) == ["commerce"]
    finally:
        demo.stop()
    assert demo.process.poll() is not None
