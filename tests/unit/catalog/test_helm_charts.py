"""What the charts of infra/helm deploy, rendered by the real Helm: the processes and commands
docker-compose.yml runs, on the ports the services listen on, with their secrets from a
Secret, writable /tmp under a read-only root, autoscaled web Deployments, and memory limits
that hold the measured processes. (tests/integration/services/test_helm_probes.py checks
the probe paths and heartbeat files against running services.)"""
from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest
import yaml

from platform_services.common.config import DEFAULT_PORTS, SERVICES
from portal.catalog.helm import Chart, load_chart
from portal.catalog.readiness import HELM_ROOT

ROOT = HELM_ROOT.parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
LIBRARY = HELM_ROOT / "meridian-lib"
USERS = sorted(p.parent.name for p in HELM_ROOT.glob("*/Chart.yaml")
               if "file://../meridian-lib" in p.read_text())
MIB = {"Mi": 1, "Gi": 1024}


def objects(chart: Chart, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in chart.objects if o["kind"] == kind}


def workloads(chart: Chart) -> dict[str, dict]:
    """The process types: Deployments, and the Rollout a canary-released web process is."""
    return {**objects(chart, "Deployment"), **objects(chart, "Rollout")}


def container(deployment: dict) -> dict:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env_of(chart: Chart, deployment: dict) -> dict[str, dict]:
    """The container's environment as Kubernetes resolves it: the ConfigMap's values
    (envFrom), overridden by the explicit `env` entries."""
    resolved: dict[str, dict] = {}
    configs = objects(chart, "ConfigMap")
    for source in container(deployment).get("envFrom", []):
        data = configs[source["configMapRef"]["name"]]["data"]
        resolved.update({k: {"value": v} for k, v in data.items()})
    resolved.update({e["name"]: e for e in container(deployment).get("env", [])})
    return resolved


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
    return int(number) * MIB[unit]


@pytest.fixture(scope="module", params=SERVICES)
def service(request) -> tuple[str, Chart]:
    return request.param, load_chart(HELM_ROOT / request.param)


def test_every_platform_service_and_the_portal_use_the_library():
    assert set(USERS) == {*SERVICES, "portal", "api-gateway"}
    meta = yaml.safe_load((LIBRARY / "Chart.yaml").read_text())
    assert meta["type"] == "library"


@pytest.mark.parametrize("name", USERS)
def test_the_vendored_library_is_an_exact_copy(name):
    """scripts/vendor-helm-lib.sh refreshes the copies; a stale one fails here."""
    copy = HELM_ROOT / name / "charts" / "meridian-lib"
    source = sorted(p.relative_to(LIBRARY) for p in LIBRARY.rglob("*") if p.is_file())
    assert sorted(p.relative_to(copy) for p in copy.rglob("*") if p.is_file()) == source
    _, mismatch, errors = filecmp.cmpfiles(LIBRARY, copy, [str(p) for p in source],
                                           shallow=False)
    assert (mismatch, errors) == ([], [])
    # Each service chart holds values only: its one template hands over to the library.
    templates = list((HELM_ROOT / name / "templates").iterdir())
    assert [t.name for t in templates] == ["all.yaml"]
    assert '{{ include "meridian-lib.' in templates[0].read_text()


def test_web_deployment_serves_on_the_services_port_with_the_compose_command(service):
    name, chart = service
    port = DEFAULT_PORTS[name]
    web = workloads(chart)[name]
    assert container(web)["ports"] == [{"name": "http", "containerPort": port}]
    assert container(web)["command"] == COMPOSE[name]["command"]
    assert container(web)["command"][0] == "gunicorn"
    assert f'platform_services.wsgi:create("{name}")' in container(web)["command"]
    assert f"0.0.0.0:{port}" in container(web)["command"]
    env, compose_env = env_of(chart, web), COMPOSE[name]["environment"]
    for key in ("DB_POOL_SIZE", "DB_MAX_OVERFLOW"):  # the pools compose's budget counts
        assert env[key]["value"] == compose_env[key], key
    [svc] = objects(chart, "Service").values()
    assert svc["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    [policy] = objects(chart, "NetworkPolicy").values()
    assert {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]} == {port}


def test_background_process_type_matches_compose_and_runs_once(service):
    name, chart = service
    deployments = workloads(chart)
    if f"{name}-background" not in COMPOSE:
        assert set(deployments) == {name}
        return
    background = deployments[f"{name}-background"]
    assert container(background)["command"] == COMPOSE[f"{name}-background"]["command"]
    assert background["spec"]["replicas"] == 1
    assert background["spec"]["strategy"] == {"type": "Recreate"}
    assert "ports" not in container(background)
    env = env_of(chart, background)
    compose_env = COMPOSE[f"{name}-background"]["environment"]
    for key in ("DB_POOL_SIZE", "DB_MAX_OVERFLOW"):
        assert env[key]["value"] == compose_env[key], key
    # Its probes read the heartbeat file the process is told to touch.
    heartbeat = env["HEARTBEAT_FILE"]["value"]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert heartbeat in container(background)[probe]["exec"]["command"][-1]


def test_secrets_come_from_the_secret_and_settings_from_the_configmap(service):
    name, chart = service
    for deployment in workloads(chart).values():
        env = env_of(chart, deployment)
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": name, "key": "DATABASE_URL"}
        assert "optional" not in env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert "secretKeyRef" in env["SERVICE_CLIENT_SECRET"]["valueFrom"]
        # Nothing that looks like a secret is a plain value.
        plain = {k for k, v in env.items() if "value" in v}
        assert not {k for k in plain if k.endswith(("_SECRET", "_TOKEN", "_KEY", "_PEPPER"))}
        assert env["SERVICE_ENV"]["value"] == "production"
        assert env["SERVICE_HOST"]["value"] == "0.0.0.0"
        # The image's PROMETHEUS_MULTIPROC_DIR is for the portal: a service given one that
        # nothing created fails to build its metrics. Emptied, each keeps its registry.
        assert env["PROMETHEUS_MULTIPROC_DIR"]["value"] == ""
    assert objects(chart, "Secret") == {}  # synced from Vault, never in the chart


def test_hpa_scales_the_web_deployment_and_owns_its_replica_count(service):
    name, chart = service
    [hpa] = objects(chart, "HorizontalPodAutoscaler").values()
    assert hpa["apiVersion"] == "autoscaling/v2"
    web = workloads(chart)[name]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": web["apiVersion"],
                                             "kind": web["kind"], "name": name}
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert "replicas" not in workloads(chart)[name]["spec"]
    [pdb] = objects(chart, "PodDisruptionBudget").values()
    labels = workloads(chart)[name]["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("name", USERS)
def test_tmp_is_a_writable_emptydir_wherever_the_root_is_read_only(name):
    chart = load_chart(HELM_ROOT / name)
    for deployment in workloads(chart).values():
        pod = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        spec = container(deployment)
        assert spec["securityContext"]["readOnlyRootFilesystem"] is True
        assert spec["securityContext"]["runAsNonRoot"] is True
        [tmp] = [m for m in spec["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert "emptyDir" in volumes[tmp["name"]]
        env = env_of(chart, deployment)
        # The image sets PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus; wherever it stays set,
        # it must be in the writable /tmp.
        multiproc = env.get("PROMETHEUS_MULTIPROC_DIR", {"value": "/tmp/prometheus"})["value"]
        assert multiproc == "" or multiproc.startswith("/tmp/")
        for key, value in env.items():
            if key.endswith(("_DIR", "_FILE")) and value.get("value", "").startswith("/"):
                assert value["value"].startswith(("/tmp/", "/etc/meridian/")), key


@pytest.mark.parametrize("name", USERS)
def test_pods_spread_and_every_container_fits_its_measured_memory(name):
    chart = load_chart(HELM_ROOT / name)
    for deployment in workloads(chart).values():
        pod = deployment["spec"]["template"]["spec"]
        if deployment["spec"].get("strategy", {}).get("type") != "Recreate":
            keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
            assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
        limits = container(deployment)["resources"]["limits"]
        requests = container(deployment)["resources"]["requests"]
        assert mebibytes(requests["memory"]) <= mebibytes(limits["memory"])


def _measured(values: dict, process: str) -> dict:
    if process in ("web", "background") and process in values:
        return values[process]
    return values["processes"][process]


@pytest.mark.parametrize("name", [*SERVICES, "portal"])
def test_memory_limits_hold_the_measured_processes(name):
    """values.yaml records the RSS tests/bench/bench_rss.py measured; the limit holds the
    master plus every worker the process type starts, the request at least that much
    of the shared-page-free working set."""
    chart = load_chart(HELM_ROOT / name)
    for deployment in workloads(chart).values():
        process = deployment["spec"]["template"]["metadata"]["labels"][
            "app.kubernetes.io/component"]
        values = _measured(chart.values, process)
        if "measuredRssMiB" not in values:
            continue
        rss = values["measuredRssMiB"]
        env = env_of(chart, deployment)
        workers = int(env.get("GUNICORN_WORKERS", env.get("WEB_CONCURRENCY", {"value": "1"}))
                      ["value"])
        command = container(deployment)["command"]
        concurrency = [a.split("=")[1] for a in command if a.startswith("--concurrency=")]
        workers = int(concurrency[0]) if concurrency else workers
        total = rss.get("process", 0) + rss.get("master", 0) + workers * rss.get("worker", 0)
        limit = mebibytes(container(deployment)["resources"]["limits"]["memory"])
        assert total < limit, (deployment["metadata"]["name"], total, limit)


def test_portal_runs_compose_process_types_with_explicit_gunicorn_workers():
    chart = load_chart(HELM_ROOT / "portal")
    deployments = workloads(chart)
    assert set(deployments) == {"portal", "portal-worker", "portal-beat"}
    dockerfile = (ROOT / "Dockerfile").read_text()
    web = deployments["portal"]
    assert f"CMD {container(web)['command']}".replace("'", '"') in dockerfile
    assert container(web)["ports"] == [{"name": "http", "containerPort": 8000}]
    assert container(deployments["portal-worker"])["command"] == \
        COMPOSE["celery-worker"]["command"]
    assert container(deployments["portal-beat"])["command"] == COMPOSE["celery-beat"]["command"]
    env = env_of(chart, web)
    # Not 2 x CPUs + 1: the CPUs gunicorn sees are the node's.
    assert int(env["GUNICORN_WORKERS"]["value"]) == 2
    assert env["GUNICORN_BIND"]["value"] == "0.0.0.0:8000"
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"
    assert env["SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "SECRET_KEY"
    assert container(web)["readinessProbe"]["httpGet"]["path"] == "/readyz"
    beat = deployments["portal-beat"]
    assert (beat["spec"]["replicas"], beat["spec"]["strategy"]["type"]) == (1, "Recreate")
    [hpa] = objects(chart, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "portal"


def test_heartbeat_probes_name_the_files_the_processes_touch():
    from portal.beat_lock import HEARTBEAT_FILE as beat_file
    from portal.worker_health import HEARTBEAT_FILE as worker_file
    chart = load_chart(HELM_ROOT / "portal")
    deployments = workloads(chart)
    for name, path in (("portal-worker", worker_file), ("portal-beat", beat_file)):
        probe = container(deployments[name])["livenessProbe"]["exec"]["command"][-1]
        assert f"find {Path('/tmp') / path.name} " in probe
