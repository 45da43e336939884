"""Game days: Chaos Mesh manifests rendered from validated input, approved by a manager,
committed to (and removed from) a real local GitOps git repository."""
from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from portal.selfservice import gamedays
from portal.selfservice.models import GameDay

pytestmark = pytest.mark.integration


@pytest.fixture
def graph(session):
    """order depends on payment, as the catalog graph says."""
    team = catalog.upsert_team(session=session, slug="platform", name="Platform Engineering",
                               chat_channel="#platform")
    order = catalog.upsert_service(session=session, slug="order", team=team,
                                   name="Order Service", kind="service", tier=1)
    catalog.upsert_service(session=session, slug="payment", team=team, name="Payment Service",
                           kind="service", tier=1)
    catalog.set_dependencies(session=session, service=order, depends_on={"payment": "charges"})
    session.commit()
    return order


@pytest.fixture
def gitops(app, tmp_path, monkeypatch):
    """The portal's GitOps clone in a temporary directory (created from infra/argocd)."""
    path = tmp_path / "gitops"
    monkeypatch.setitem(app.config, "SELFSERVICE_GITOPS_REPO", str(path))
    return path


def git(path, *args) -> str:
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                          text=True).stdout


def now_text(delta=timedelta()) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M")


def delay_form(**over) -> dict:
    return {"service": "order", "environment": "staging", "experiment": "network-delay",
            "mode": "all", "target": "payment", "latency_ms": "250", "jitter_ms": "50",
            "duration_minutes": "30", "window_start": now_text(), **over}


def only(session) -> GameDay:
    session.expire_all()
    rows = session.scalars(select(GameDay)).unique().all()
    assert len(rows) == 1
    return rows[0]


def test_network_delay_manifest_has_the_documented_shape(client, login_as, session, graph):
    login_as("developer")
    response = client.post_form("/selfservice/gamedays", delay_form())
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    gameday = only(session)
    assert gameday.status == "requested" and gameday.commit_sha is None
    doc = yaml.safe_load(gameday.manifest)
    assert doc == {
        "apiVersion": "chaos-mesh.org/v1alpha1", "kind": "NetworkChaos",
        "metadata": {"name": gameday.name, "namespace": "chaos-mesh",
                     "labels": {"portal.meridian.io/gameday": gameday.name,
                                "app.kubernetes.io/name": "order"}},
        "spec": {"action": "delay", "mode": "all",
                 "selector": {"namespaces": ["meridian-staging"],
                              "labelSelectors": {"app.kubernetes.io/name": "order"}},
                 "delay": {"latency": "250ms", "jitter": "50ms"}, "direction": "to",
                 "target": {"mode": "all", "selector": {
                     "namespaces": ["meridian-staging"],
                     "labelSelectors": {"app.kubernetes.io/name": "payment"}}},
                 "duration": "30m"}}
    assert re.fullmatch(r"order-network-delay-[0-9a-f]{6}", gameday.name)
    assert gameday.manifest_path == f"chaos/staging/{gameday.name}.yaml"
    assert gameday.window_end - gameday.window_start == timedelta(minutes=30)


def test_pod_kill_manifest_has_the_documented_shape(client, login_as, session, graph):
    login_as("developer")
    response = client.post_form("/selfservice/gamedays", delay_form(
        experiment="pod-kill", mode="one", target="", duration_minutes="10"))
    assert response.status_code == 303
    doc = yaml.safe_load(only(session).manifest)
    assert doc["kind"] == "PodChaos" and doc["apiVersion"] == "chaos-mesh.org/v1alpha1"
    assert doc["spec"] == {"action": "pod-kill", "mode": "one",
                           "selector": {"namespaces": ["meridian-staging"],
                                        "labelSelectors": {"app.kubernetes.io/name": "order"}},
                           "duration": "10m"}


def test_prod_is_refused_with_a_clear_message(client, login_as, session, graph):
    login_as("developer")
    response = client.post_form("/selfservice/gamedays", delay_form(environment="prod"))
    assert response.status_code == 422
    assert "staging only" in response.get_data(as_text=True)
    assert session.scalars(select(GameDay)).first() is None


def test_approval_commits_then_end_now_removes(client, login_as, session, graph, gitops,
                                              make_user):
    dev = login_as("developer")
    client.post_form("/selfservice/gamedays", delay_form())
    gameday = only(session)
    # The requester cannot approve, even as a manager, and nothing is committed unapproved.
    assert client.post_form(f"/selfservice/gamedays/{gameday.id}/decision",
                            {"decision": "approve", "comment": "ok"}).status_code == 403
    assert not (gitops / gameday.manifest_path).exists()

    manager = login_as("manager")
    missing = client.post_form(f"/selfservice/gamedays/{gameday.id}/decision",
                               {"decision": "approve", "comment": "  "})
    assert missing.status_code == 422 and only(session).status == "requested"
    ok = client.post_form(f"/selfservice/gamedays/{gameday.id}/decision",
                          {"decision": "approve", "comment": "staging is quiet today"})
    assert ok.status_code == 303
    gameday = only(session)
    assert gameday.status == "running" and gameday.approved_by_id == manager.id
    assert git(gitops, "rev-parse", "HEAD").strip() == gameday.commit_sha
    assert git(gitops, "log", "-1", "--format=%ae %s", gameday.commit_sha).strip() == (
        f"{dev.email} game day {gameday.name}: network-delay on order in staging")
    approval = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "selfservice.gameday.approve")).one()
    assert approval.actor_id == manager.id and approval.details == {
        "comment": "staging is quiet today", "commit": gameday.commit_sha}
    committed = git(gitops, "show", f"{gameday.commit_sha}:{gameday.manifest_path}")
    assert yaml.safe_load(committed)["kind"] == "NetworkChaos"

    ended = client.post_form(f"/selfservice/gamedays/{gameday.id}/end")
    assert ended.status_code == 303
    gameday = only(session)
    assert gameday.status == "ended" and gameday.removal_sha != gameday.commit_sha
    assert git(gitops, "rev-parse", "HEAD").strip() == gameday.removal_sha
    assert not (gitops / gameday.manifest_path).exists()
    assert client.post_form(f"/selfservice/gamedays/{gameday.id}/end").status_code == 409
    page = client.get("/selfservice/gamedays").get_data(as_text=True)
    for step in ("requested", "approved", "committed", "window start", "removed"):
        assert f'data-step="{step}"' in page
    assert gameday.commit_sha in page and "staging is quiet today" in page


def test_window_end_removal_commit(app, session, graph, gitops, make_user):
    dev, manager = make_user("developer"), make_user("manager")
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    gameday = gamedays.request(session=session, raw=delay_form(
        experiment="pod-kill", target="", duration_minutes="5",
        window_start=start.strftime("%Y-%m-%dT%H:%M")), requester=dev, now=start)
    gamedays.decide(session=session, gameday=gameday, user=manager, decision="approve",
                    comment="go", now=start - timedelta(minutes=1))
    assert gameday.status == "scheduled" and gameday.commit_sha is None
    assert gamedays.advance(session=session, now=start) == [f"running {gameday.name}"]
    assert (gitops / gameday.manifest_path).exists()
    assert gamedays.advance(session=session, now=start + timedelta(minutes=4)) == []
    done = gamedays.advance(session=session, now=start + timedelta(minutes=5))
    assert done == [f"ended {gameday.name}"] and gameday.removal_sha
    assert not (gitops / gameday.manifest_path).exists()
    assert "the end of its window" in git(gitops, "log", "-1", "--format=%s")
    events = catalog.timeline(session=session, service=graph)
    assert [e.summary for e in events if e.kind == "gameday"] == [
        f"Game day in staging (pod kill): removed {gameday.removal_sha[:12]}",
        f"Game day in staging (pod kill): committed {gameday.commit_sha[:12]}"]


def test_outcome_is_recorded_by_the_requester_and_audited(client, login_as, session, graph,
                                                         gitops, make_user):
    manager = make_user("manager")
    dev = login_as("developer")
    client.post_form("/selfservice/gamedays", delay_form())
    gameday = only(session)
    gamedays.decide(session=session, gameday=gameday, user=manager, decision="approve",
                    comment="go")
    session.commit()
    response = client.post_form(f"/selfservice/gamedays/{gameday.id}/outcome",
                                {"outcome": "degraded", "notes": "checkout p99 went to 2s"})
    assert response.status_code == 303
    gameday = only(session)
    assert (gameday.outcome, gameday.outcome_notes) == ("degraded", "checkout p99 went to 2s")
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "selfservice.gameday.outcome")).one()
    assert entry.actor_id == dev.id and entry.details["outcome"] == "degraded"
    assert 'data-step="outcome: degraded"' in client.get("/selfservice/gamedays").get_data(
        as_text=True)
    assert client.post_form(f"/selfservice/gamedays/{gameday.id}/outcome",
                            {"outcome": "exploded"}).status_code == 422
    login_as("developer")  # someone else
    assert client.post_form(f"/selfservice/gamedays/{gameday.id}/outcome",
                            {"outcome": "held"}).status_code == 403


@pytest.mark.parametrize(("roles", "page", "post"), [
    (("developer",), 200, 303), (("manager",), 200, 303), (("oncall",), 200, 403),
    (("tenant_viewer",), 403, 403)])
def test_role_checks(client, login_as, session, graph, roles, page, post):
    login_as(*roles)
    assert client.get("/selfservice/gamedays").status_code == page
    assert client.post_form("/selfservice/gamedays", delay_form()).status_code == post


def test_anonymous_and_csrf(client, login_as, session, graph):
    assert client.get("/selfservice/gamedays").status_code in (302, 401)
    login_as("developer")
    assert client.post("/selfservice/gamedays", data=delay_form()).status_code == 400
    assert session.scalars(select(GameDay)).first() is None


@pytest.mark.parametrize(("field", "value"), [
    ("latency_ms", "２５０"), ("latency_ms", "99999999999999999999"), ("latency_ms", "0"),
    ("jitter_ms", "300"), ("duration_minutes", "241"), ("duration_minutes", "-5"),
    ("target", "payment\x00"), ("target", "billing"), ("service", "order;rm -rf /"),
    ("service", "nope"), ("window_start", "2026-13-40T99:99"),
    ("window_start", now_text(timedelta(days=60))), ("window_start", "２０２６-12-08T10:00"),
    ("experiment", "disk-fill"), ("mode", "fixed-percent"), ("latency_ms", "1e3")])
def test_hostile_input_is_a_4xx(client, login_as, session, graph, field, value):
    login_as("developer")
    response = client.post_form("/selfservice/gamedays", delay_form(**{field: value}))
    # Out-of-range integers are refused by the app's form guard (400) before the view.
    assert response.status_code in (400, 422), (field, value)
    if response.status_code == 422:
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert session.scalars(select(GameDay)).first() is None


def test_huge_body_and_unknown_ids(client, login_as, graph):
    login_as("manager")
    big = client.post_form("/selfservice/gamedays", delay_form(service="a" * 2_000_000))
    assert 400 <= big.status_code < 500
    assert client.post_form("/selfservice/gamedays/999999/end").status_code == 404
    assert client.post_form("/selfservice/gamedays/99999999999999999999/end").status_code == 404


def test_gitops_paths_outside_the_repo_are_refused(tmp_path):
    from provisioning.argocd import Author, GitOpsRepo
    repo = GitOpsRepo(tmp_path, sink=lambda line: None)
    for path in ("../escape.yaml", "/etc/passwd", "chaos/staging/a b.yaml", "chaos/\x00.yaml"):
        with pytest.raises(ValueError):
            repo.commit_file(path, "x", author=Author("a", "a@x"), message="m")
        with pytest.raises(ValueError):
            repo.remove_file(path, author=Author("a", "a@x"), message="m")


def test_rejection_commits_nothing(client, login_as, session, graph, gitops):
    login_as("developer")
    client.post_form("/selfservice/gamedays", delay_form())
    gameday = only(session)
    login_as("manager")
    response = client.post_form(f"/selfservice/gamedays/{gameday.id}/decision",
                                {"decision": "reject", "comment": "release freeze this week"})
    assert response.status_code == 303
    gameday = only(session)
    assert gameday.status == "rejected" and gameday.commit_sha is None
    assert not (gitops / ".git").exists()  # the GitOps repo was never touched
    page = client.get("/selfservice/gamedays").get_data(as_text=True)
    assert 'data-step="rejected"' in page and "release freeze this week" in page
    again = client.post_form(f"/selfservice/gamedays/{gameday.id}/decision",
                             {"decision": "approve", "comment": "changed my mind"})
    assert again.status_code == 409
