"""The incident page reuses the render of its parts (page_cache.reused_html): the same
HTML as rendering them anew, with this request's CSRF token and relative wording, and a new
render as soon as the incident's copy, the viewer's zone or the viewer's role changes."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from markupsafe import Markup

from portal.incidents import page_cache, timeline
from portal.timefmt import when


def page(client, incident_id: int, query: str = "", **headers) -> str:
    response = client.get(f"/incidents/{incident_id}{query}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def masked(html: str) -> str:
    # The relative wording and CSRF tokens differ from one render to the next, and so does
    # the suspects panel's window, which ends now while the incident is open.
    html = re.sub(r'<section id="suspects".*?</section>', "SUSPECTS", html, flags=re.S)
    html = re.sub(r'<span class="when-rel"> · [^<]*</span>', "REL", html)
    html = re.sub(r"request [0-9a-f]{32}", "REQUEST", html)
    return re.sub(r'(value|content)="[\w.-]{40,}"|"X-CSRFToken": "[^"]+"', "TOKEN", html)


def test_reused_parts_give_the_html_of_a_plain_render(client, login_as, make_incident,
                                                       session, monkeypatch):
    incident = make_incident(customer_facing=True)
    login_as("manager")
    timeline.add_note(session=session, incident_id=incident.id, body="Rolled back **v42**",
                      actor_email="oncall@test.example")
    session.commit()
    page(client, incident.id)
    reused = page(client, incident.id)
    fragment = page(client, incident.id, "?kind=note", **{"HX-Request": "true"})
    assert "\x00" not in reused and "<strong>v42</strong>" in reused
    assert 'name="csrf_token" value="' in reused and "Respond</summary>" in reused
    assert fragment.startswith('<section id="timeline">')
    # Every form of the page (the customer update's too) carries this session's token.
    tokens = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                        r'name="csrf_token" value="([^"]+)"', reused)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', reused).group(1)
    assert len(tokens) > 5 and {a or b for a, b in tokens} == {meta}
    assert 'id="customer-updates"' in reused

    monkeypatch.setattr(page_cache, "reused_html",
                        lambda part, data, render, **kwargs: Markup(render()))
    assert masked(page(client, incident.id)) == masked(reused)
    assert masked(page(client, incident.id, "?kind=note",
                       **{"HX-Request": "true"})) == masked(fragment)


def test_each_viewer_gets_their_own_token_and_controls(client, login_as, make_incident):
    incident = make_incident()
    login_as("manager")
    as_manager = page(client, incident.id)
    assert "Respond</summary>" in as_manager
    login_as("developer")  # signs the same browser in as someone else
    as_developer = page(client, incident.id)
    assert "Respond</summary>" not in as_developer
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', as_developer))
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', as_developer).group(1)
    assert tokens == {meta}


def test_the_zone_and_the_relative_wording_are_the_requests(app, monkeypatch):
    opened = datetime(2026, 12, 7, 11, 48, tzinfo=UTC)
    renders = []

    def render():
        renders.append(1)
        return f"{when(opened, zone)} {token}"

    data = SimpleNamespace(incident=SimpleNamespace(id=1))
    monkeypatch.setitem(page_cache._kept, (1, None), ("v1", data))
    with app.test_request_context("/"):
        zone, token = "Europe/Berlin", "tok-one"
        now = opened + timedelta(minutes=12)
        first = page_cache.reused_html("t", data, kind=None, zone=zone, now=now,
                                       csrf_token=token, render=render)
        assert str(first) == f"{when(opened, zone, now=now)} tok-one"
        later = page_cache.reused_html("t", data, kind=None, zone=zone,
                                       now=now + timedelta(hours=2), csrf_token="tok-two",
                                       render=render)
        assert str(later) == f"{when(opened, zone, now=now + timedelta(hours=2))} tok-two"
        assert "2 h ago" in str(later) and len(renders) == 1
        zone = "UTC"
        assert ">07 Dec 11:48 UTC<" in str(page_cache.reused_html(
            "t", data, kind=None, zone=zone, now=now, csrf_token=token, render=render))
        # A new copy of the incident (its rows changed) is rendered again.
        changed = SimpleNamespace(incident=SimpleNamespace(id=1))
        page_cache._kept[(1, None)] = ("v2", changed)
        opened = opened - timedelta(days=1)
        assert ">06 Dec 11:48 UTC<" in str(page_cache.reused_html(
            "t", changed, kind=None, zone=zone, now=now, csrf_token=token, render=render))
        assert len(renders) == 3
        # A copy that is not kept (a tenant's view reads anew) is rendered every time.
        alone = SimpleNamespace(incident=SimpleNamespace(id=1))
        for _ in range(2):
            page_cache.reused_html("t", alone, kind=None, zone=zone, now=now,
                                   csrf_token=token, render=render)
        assert len(renders) == 5


def test_a_new_entry_and_a_status_change_show_at_once(client, login_as, make_incident,
                                                      session):
    incident = make_incident()
    login_as("manager")
    assert "second thoughts" not in page(client, incident.id)
    timeline.add_note(session=session, incident_id=incident.id, body="second thoughts",
                      actor_email="oncall@test.example")
    session.commit()
    assert "second thoughts" in page(client, incident.id)
    assert "second thoughts" in page(client, incident.id, "?kind=note",
                                     **{"HX-Request": "true"})
