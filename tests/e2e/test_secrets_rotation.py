"""The secret rotation pages in a browser against a real OpenBao: the fleet page lists each
owned secret with its policy and flags the overdue one; the service page shows the same."""
import secrets
import time

import hvac
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_vulnerabilities import _shot
from tests.integration.catalog.conftest import openbao  # noqa: F401 (the fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture
def vault_configured(e2e_app, openbao, tmp_path):  # noqa: F811 (the fixture imported above)
    prefix = f"e2e{secrets.token_hex(3)}"
    client = hvac.Client(url=openbao["addr"], token=openbao["token"])
    for path in (f"{prefix}/database/order", f"{prefix}/api-keys/order"):
        client.secrets.kv.v2.create_or_update_secret(path=path, secret={"v": "x"},
                                                     mount_point="secret")
    rotation = tmp_path / "rotation.yaml"
    rotation.write_text(f"""
policies:
  - {{pattern: "*/database/*", max_age: 1s}}
  - {{pattern: "*", max_age: 90d}}
secrets:
  - {{service: order, path: {prefix}/database/order}}
  - {{service: order, path: {prefix}/api-keys/order}}
""")
    saved = {k: e2e_app.config.get(k) for k in ("VAULT_ADDR", "VAULT_TOKEN",
                                                 "SECRET_ROTATION_FILE")}
    e2e_app.config.update(VAULT_ADDR=openbao["addr"], VAULT_TOKEN=openbao["token"],
                          SECRET_ROTATION_FILE=str(rotation))
    time.sleep(1.1)  # the 1-second policy of the database secret runs out
    yield prefix
    e2e_app.config.update(saved)


def test_fleet_and_service_pages_flag_the_overdue_secret(sign_in, page: Page, live_url,
                                                         vault_configured):
    prefix = vault_configured
    sign_in("oncall")
    page.goto(f"{live_url}/catalog/secrets")
    expect(page.locator(f'tr[data-path="{prefix}/database/order"]')).to_have_attribute(
        "data-state", "overdue")
    expect(page.locator(f'tr[data-path="{prefix}/api-keys/order"]')).to_have_attribute(
        "data-state", "ok")
    expect(page.locator("#secrets-summary")).to_contain_text("1 overdue")
    _shot(page, "secrets")
    page.goto(f"{live_url}/catalog/services/order")
    expect(page.locator("#secrets-overdue")).to_have_text("1 overdue")
    page.locator("#secrets-panel").scroll_into_view_if_needed()
    _shot(page, "service_secrets")
