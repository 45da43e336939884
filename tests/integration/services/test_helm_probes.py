"""The charts' probes against the real processes: every HTTP probe path of a service chart
answers 200 without a token (the kubelet sends none), and a background process's exec
probe passes while the process runs and fails once its heartbeat file goes stale."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from platform_services.common.config import SERVICES
from platform_services.common.runner import background_command
from platform_services.registry import build
from portal.catalog.helm import load_chart
from portal.catalog.readiness import HELM_ROOT
from tests.integration.services import gunicorn
from tests.servers import wait_until

pytestmark = pytest.mark.integration
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _containers(name: str) -> dict[str, dict]:
    chart = load_chart(HELM_ROOT / name)
    return {o["metadata"]["name"]: o["spec"]["template"]["spec"]["containers"][0]
            for o in chart.objects if o["kind"] in ("Deployment", "Rollout")}  # canary: Rollout


@pytest.mark.parametrize("name", SERVICES)
def test_http_probes_hit_open_routes_of_the_service(name, config):
    web = _containers(name)[name]
    paths = {web[p]["httpGet"]["path"] for p in PROBES}
    assert {web[p]["httpGet"]["port"] for p in PROBES} == {"http"}
    service = build(config(name), log=False)
    try:
        client = service.app.test_client()
        for path in paths:
            answer = client.get(path)  # no Authorization header, like the kubelet
            assert answer.status_code == 200, (path, answer.get_json())
    finally:
        service.close()


def test_background_exec_probe_follows_the_heartbeat(services_db, run_prefix, platform_auth,
                                                     broker, tmp_path):
    background = _containers("order")["order-background"]
    chart_file = next(e["value"] for e in background["env"] if e["name"] == "HEARTBEAT_FILE")
    heartbeat = tmp_path / "background.alive"
    probes = {p: background[p]["exec"]["command"] for p in PROBES}

    def probe(kind: str) -> int:
        argv = [part.replace(chart_file, str(heartbeat)) for part in probes[kind]]
        return subprocess.run(argv, check=False, timeout=10).returncode

    assert probe("startupProbe") != 0  # nothing has started yet
    env = gunicorn.deployed_env(services_db, platform_auth.url, run_prefix,
                                LOG_FORMAT="text", RABBITMQ_URL=broker,
                                HEARTBEAT_FILE=str(heartbeat))
    log = tmp_path / "background.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(background_command("order"), env={**os.environ, **env},
                                cwd=gunicorn.ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(heartbeat.exists, timeout=60, what="order background heartbeat",
                   proc=proc, log=log)
        assert {kind: probe(kind) for kind in PROBES} == dict.fromkeys(PROBES, 0)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()[-2000:]
    stale = time.time() - 180  # a process that stopped beating three minutes ago
    os.utime(heartbeat, (stale, stale))
    assert probe("livenessProbe") != 0
