"""Every `next` the portal honours is a same-origin path: a corpus of open-redirect tricks
against the helper and against the real login, feed-token and page-ack endpoints."""
from datetime import UTC, datetime

import pytest

from portal.oncall import notify, paging
from portal.security.redirects import safe_target
from tests.conftest import TEST_PASSWORD
from tests.unit.oncall.conftest import make_schedule, seed_policies, team_with_service  # noqa: F401

HOSTILE = [
    "//evil.example", "///evil.example", "////evil.example", "/\t/evil.example",
    "/%09/evil.example", "/\n/evil.example", "/%0a/evil.example", "/\r/evil.example",
    "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
    "/%2f/evil.example", "/%2F%2Fevil.example", "%2f%2fevil.example", "/%5cevil.example",
    "/%5c%5cevil.example", "/%252f/evil.example", "https://evil.example", "http:evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " //evil.example", "evil.example",
    "@evil.example", "//user@evil.example", "/@evil.example\\@x", "https:/\\evil.example",
    "/\u3002evil.example", "/\uff0f\uff0fevil.example", "/\uff0fevil.example",
    "/\u2215\u2215evil.example", "\u2025/evil.example", "/%EF%BC%8F/evil.example",
    "data:text/html,<script>alert(1)</script>", "", None, "/" + "a" * 5000,
]
SAFE = ["/", "/oncall", "/oncall/pages/7", "/tenants/acme-retail/reports?kind=usage",
        "/catalog/search?q=a%20b", "/x@y"]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target):
    assert safe_target(target) is None


@pytest.mark.parametrize("target", SAFE)
def test_same_origin_paths_are_kept(target):
    assert safe_target(target) == target


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example",
                                    "https://evil.example", "/%2f%2fevil.example"])
def test_login_never_redirects_off_site(client, make_user, target):
    user = make_user("developer")
    response = client.post_form(f"/login?next={target}",
                                {"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_login_keeps_a_local_next(client, make_user):
    user = make_user("developer")
    response = client.post_form("/login?next=/oncall", {"email": user.email,
                                                        "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/oncall"


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example", "/\\evil"])
def test_feed_token_next_stays_on_site(client, login_as, target):
    login_as("oncall")
    response = client.post_form("/oncall/feed-token", {"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/oncall/"


def test_page_ack_next_stays_on_site(client, login_as, session, make_schedule,  # noqa: F811
                                     seed_policies, team_with_service):  # noqa: F811
    user = login_as("oncall")
    team, svc = team_with_service
    make_schedule([user], slug="redirect-sched", team=team)
    page = paging.start_paging(session=session, incident_id=9, severity="sev2", title="x",
                               service_slugs=[svc.slug],
                               channels=notify.Channels("k", "http://portal.test"),
                               now=datetime.now(UTC))
    session.commit()
    response = client.post_form(f"/oncall/pages/{page.id}/ack",
                                {"next": "https://evil.example/phish"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/oncall/pages/{page.id}"
