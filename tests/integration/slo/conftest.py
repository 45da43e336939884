"""A real Prometheus (Debian package) on a free loopback port, over a TSDB backfilled with
`promtool tsdb create-blocks-from openmetrics` before it starts."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.servers import free_port, stop
from tests.servers import start as start_server

PROMETHEUS, PROMTOOL = shutil.which("prometheus"), shutil.which("promtool")


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
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        procs.append(start_server(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=3650d"],
            ready=f"{url}/-/ready", log=tmp_path / "prometheus.log", what="Prometheus"))
        return url

    yield start
    for proc in procs:
        stop(proc)
