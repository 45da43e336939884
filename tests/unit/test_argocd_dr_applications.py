"""The DR cluster's Argo CD Applications (infra/argocd): one per prod Application, the same
chart and values, deployed to the DR cluster from the delayed `dr` branch, automated."""
from __future__ import annotations

from pathlib import Path

import yaml

ARGOCD = Path(__file__).resolve().parents[2] / "infra" / "argocd"
DR_SERVER = "https://dr-eu-west-1.k8s.meridian.internal"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def apps(environment: str) -> dict[str, dict]:
    return {p.name.removesuffix(f"-{environment}.yaml"): load(p)
            for p in sorted((ARGOCD / "applications").glob(f"*-{environment}.yaml"))}


def test_every_prod_application_has_a_dr_twin_on_the_dr_cluster():
    prod, dr = apps("prod"), apps("dr")
    assert set(dr) == set(prod) and len(dr) == 9
    for service, app in dr.items():
        assert app["apiVersion"] == "argoproj.io/v1alpha1" and app["kind"] == "Application"
        assert app["metadata"] == {"name": f"{service}-dr", "namespace": "argocd"}
        spec, twin = app["spec"], prod[service]["spec"]
        assert spec["project"] == "meridian-dr"
        assert spec["destination"] == {"server": DR_SERVER,
                                       "namespace": twin["destination"]["namespace"]}
        # Same repository, chart and prod values; only the revision trails.
        assert {k: v for k, v in spec["source"].items() if k != "targetRevision"} == \
            {k: v for k, v in twin["source"].items() if k != "targetRevision"}
        assert (twin["source"]["targetRevision"], spec["source"]["targetRevision"]) == \
            ("main", "dr")
        assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
        assert "automated" not in twin["syncPolicy"]  # prod still syncs on approval only


def test_the_dr_project_allows_only_the_dr_cluster_and_the_gitops_repository():
    project = load(ARGOCD / "dr" / "project.yaml")
    assert project["kind"] == "AppProject"
    assert project["metadata"]["name"] == "meridian-dr"
    assert project["spec"]["destinations"] == [{"server": DR_SERVER,
                                                "namespace": "meridian-prod"}]
    repos = {app["spec"]["source"]["repoURL"] for app in apps("dr").values()}
    assert project["spec"]["sourceRepos"] == sorted(repos)
    assert project["spec"]["clusterResourceWhitelist"] == []


def test_a_scheduled_job_keeps_the_dr_branch_30_minutes_behind_main():
    job = load(ARGOCD / "dr" / "advance-dr-revision.yaml")
    assert job["kind"] == "CronJob" and job["spec"]["concurrencyPolicy"] == "Forbid"
    assert job["spec"]["schedule"] == "*/5 * * * *"
    [container] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["DELAY"]["value"] == "30 minutes"
    script = container["command"][-1]
    assert 'git rev-list -1 --before="${DELAY} ago" main' in script
    # Fast-forward only: no force push may move DR onto a rewritten history.
    assert 'git push origin "${target}:refs/heads/dr"' in script
    assert "--force" not in script and "+" not in script.split("git push", 1)[1]
