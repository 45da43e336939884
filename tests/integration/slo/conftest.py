"""A real Prometheus (Debian package) on a free loopback port, over a TSDB backfilled with
`promtool tsdb create-blocks-from openmetrics` before it starts."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

PROMETHEUS, PROMTOOL = shutil.which("prometheus"), shutil.which("promtool")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def backfilled_prometheus(tmp_path):
    """Call with OpenMetrics text; returns the base URL of a Prometheus serving that data."""
    if not (PROMETHEUS and PROMTOOL):
        pytest.skip("prometheus/promtool not installed (apt prometheus)")
    procs: list[subprocess.Popen] = []

    def start(openmetrics: str) -> str:
        data, source = tmp_path / "data", tmp_path / "synthetic.om"
        source.write_text(openmetrics)
        subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(source),
                        str(data)], check=True, capture_output=True, timeout=120)
        config = tmp_path / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\n")
        port = _free_port()
        log = (tmp_path / "prometheus.log").open("w")
        procs.append(subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=3650d"],
            stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(f"{url}/-/ready", timeout=1).ok:
                    return url
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Prometheus did not start: {Path(log.name).read_text()[-2000:]}")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
