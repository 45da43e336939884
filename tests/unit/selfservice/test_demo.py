"""The demo seed: a succeeded staging deploy (a real commit in the local demo GitOps repo)
and a prod deploy planned and awaiting a manager's approval; nothing sent to Celery,
idempotent, and nothing seeded when a real GitOps repo or ArgoCD is configured."""
import subprocess

import pytest
from sqlalchemy import func, select

from portal.auth import service as accounts
from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from portal.demo.seed import seed_catalog
from portal.selfservice import demo
from portal.selfservice.models import Job, JobLog
from tests.conftest import FAST_ARGON2


@pytest.fixture
def demo_world(app, session, monkeypatch, tmp_path, sent):
    monkeypatch.setitem(app.config, "INSTANCE_DIR", str(tmp_path))
    seed_catalog(session=session)
    accounts.create(session=session, email=demo.DEVELOPER, name="Devi Developer",
                    password="a demo password", roles=["developer"], params=FAST_ARGON2)
    return tmp_path


def counts(session):
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Job, JobLog, AuditEntry))


def test_seed_gives_an_honest_deploy_history(session, demo_world, sent):
    demo.seed(session=session)
    session.commit()
    jobs = {j.tier: j for j in session.scalars(select(Job))}
    assert set(jobs) == {"staging", "prod"}
    staging, prod = jobs["staging"], jobs["prod"]
    assert staging.requested_by.email == prod.requested_by.email == demo.DEVELOPER
    assert staging.status == "succeeded", staging.status_reason
    assert staging.result["sync"] == "left to ArgoCD polling"  # no ArgoCD pretended
    repo = demo_world / "gitops"
    head = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%H %ae %s"],
                          capture_output=True, text=True, check=True).stdout.split(" ", 2)
    assert head[0] == staging.result["commit"] and head[1] == demo.DEVELOPER
    assert f"tag: {demo.TAG}" in (repo / "envs/staging/billing/values.yaml").read_text()
    assert prod.status == "awaiting_approval" and prod.gate == "approval"
    assert prod.plan["from"] == "v1.22.3" and prod.plan["to"] == demo.TAG
    assert prod.approved_by is None and not prod.result
    assert "v1.22.3" in (repo / "envs/prod/billing/values.yaml").read_text()  # not applied
    assert sent == []  # ran here; nothing waits in the broker
    lines = [row.line for row in session.scalars(select(JobLog).where(JobLog.job_id == staging.id)
                                             .order_by(JobLog.seq))]
    assert lines[0] == "== plan on portal seed-demo" and "== apply on portal seed-demo" in lines
    billing = catalog.get_service(session=session, slug="billing")
    summaries = [e.summary for e in catalog.timeline(session=session, service=billing)]
    assert f"Self-service deploy of {demo.TAG} to staging: succeeded" in summaries


def test_seed_twice_changes_nothing(session, demo_world):
    demo.seed(session=session)
    session.commit()
    before = counts(session)
    demo.seed(session=session)
    session.commit()
    assert counts(session) == before


@pytest.mark.parametrize("setting", ["SELFSERVICE_GITOPS_REPO", "ARGOCD_URL"])
def test_seed_leaves_real_systems_alone(app, session, demo_world, monkeypatch, setting):
    monkeypatch.setitem(app.config, setting, "http://argocd.example" if "URL" in setting
                        else str(demo_world / "real-gitops"))
    demo.seed(session=session)
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert not (demo_world / "gitops").exists()


def test_seed_without_an_app_seeds_no_deploys(session):
    """Without an app (no GitOps repo, no work dir) nothing could really run."""
    seed_catalog(session=session)
    demo.seed(session=session)
    assert session.scalar(select(func.count()).select_from(Job)) == 0
