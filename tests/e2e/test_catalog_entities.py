"""A developer pastes Backstage entities of kinds the catalog has no page for (API, System,
Domain) and finds them, with their relations, on the entities page; a bad one is refused."""
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

ENTITIES = """\
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: e2e-checkout, description: Checkout flow}
spec: {owner: commerce, domain: e2e-sales}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: e2e-orders-api, tags: [rest]}
spec:
  type: openapi
  lifecycle: production
  owner: group:default/commerce
  system: e2e-checkout
  definition: |
    openapi: 3.0.0
"""


def test_pasted_entities_are_kept_with_their_relations(sign_in, page: Page, live_url):
    sign_in("developer")
    page.goto(f"{live_url}/catalog/import")
    page.get_by_label("…or paste its YAML").fill("kind: API\nmetadata: {name: x}\n")
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-problems")).to_contain_text(
        "Entity 1 (API x): entity: 'apiVersion' is a required property")
    page.get_by_label("…or paste its YAML").fill(ENTITIES)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#flashes")).to_contain_text("Imported 2 entities")
    page.goto(f"{live_url}/catalog/entities")
    system = page.locator("#entity-system-default-e2e-checkout")
    expect(system).to_contain_text("ownedBy group:default/commerce")
    expect(system).to_contain_text("partOf domain:default/e2e-sales not imported yet")
    api = page.locator("#entity-api-default-e2e-orders-api")
    expect(api).to_contain_text("partOf system:default/e2e-checkout")
    expect(api).not_to_contain_text("not imported yet")


COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: e2e-payments}
spec: {owner: commerce}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: e2e-ledger}
spec:
  type: service
  lifecycle: production
  owner: commerce
  system: e2e-payments
  consumesApis: [e2e-rates-api]
"""


def test_the_service_page_links_its_entitys_relations(sign_in, page: Page, live_url):
    sign_in("developer")
    page.goto(f"{live_url}/catalog/import")
    page.get_by_label("…or paste its YAML").fill(COMPONENT)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#flashes")).to_contain_text("Imported 2 entities")
    page.goto(f"{live_url}/catalog/services/e2e-ledger")
    relations = page.locator("#entity-relations")
    expect(relations).to_contain_text("consumes API api:default/e2e-rates-api not imported yet")
    relations.get_by_role("link", name="system:default/e2e-payments").click()
    expect(page).to_have_url(f"{live_url}/catalog/entities#entity-system-default-e2e-payments")
    expect(page.locator("#entity-system-default-e2e-payments")).to_contain_text("e2e-payments")
