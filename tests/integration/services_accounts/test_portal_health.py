"""The portal's health panel reads the new services' /readyz and /metrics over HTTP, as it
does for the others (each run here in its embedded default: no Vault, Stripe, SMTP or
Elasticsearch configured, so those dependencies read `not configured (...)`)."""
from __future__ import annotations

import pytest

from platform_services.auth.api import build as build_auth
from platform_services.registry import build
from portal.catalog import service as catalog
from tests.integration.services import tokens

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def portal_reads_with_a_token(app, platform_auth):
    """The portal gets its tokens for the services' /readyz and /metrics from the auth
    service they trust."""
    app.config.update(tokens.portal_config(platform_auth.url))


@pytest.mark.parametrize("name, expected", [
    ("auth", "not configured (keys in memory, lost at exit; development only)"),
    ("billing", "not configured (usage is counted in PostgreSQL directly)"),
    ("notification", "not configured (dedupe and rate limits from the notification log)"),
    ("search", "not configured (PostgreSQL full-text search)"),
])
def test_catalog_panel_shows_the_service_ready(session, client, login_as, config, run_service,
                                               name, expected):
    if name == "auth":  # the auth service checks tokens with its own keys: ask it for them
        running = run_service(build_auth(config(name), log=False,
                                         settings=tokens.auth_settings()))
        client.application.config.update(tokens.portal_config(running.url))
    else:
        running = run_service(build(config(name), log=False))
    team = catalog.upsert_team(session=session, slug=f"{name}-team-t", name=name,
                               chat_channel=None)
    catalog.upsert_service(session=session, slug=f"{name}-t", team=team, name=name,
                           base_url=running.url)
    session.commit()
    login_as("oncall")
    html = client.get(f"/health/services/{name}-t").get_data(as_text=True)
    assert 'class="badge ok">ok<' in html and expected in html
