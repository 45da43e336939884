"""A real Alertmanager (Debian `prometheus-alertmanager`) on a free loopback port.

Its config is the production one from infra/alertmanager with the routes and receivers
swapped for a null receiver (nothing leaves loopback) and the inhibition rules kept, so
the tests exercise the seed's inhibition rule exactly as deployed.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests
import yaml

from portal.config import PROJECT_ROOT

PRODUCTION_CONFIG = PROJECT_ROOT / "infra" / "alertmanager" / "alertmanager.yml"
BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def null_route_config() -> dict:
    """The production config with a null route; inhibit rules unchanged."""
    config = yaml.safe_load(PRODUCTION_CONFIG.read_text())
    return {"route": {"receiver": "null", "group_wait": "1s"},
            "receivers": [{"name": "null"}], "inhibit_rules": config["inhibit_rules"]}


@contextmanager
def running_alertmanager(workdir: Path) -> Iterator[str]:
    """Start Alertmanager, wait until ready, yield its base URL, stop it."""
    if BINARY is None:
        raise RuntimeError("prometheus-alertmanager is not installed (apt-get install "
                           "prometheus-alertmanager)")
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(yaml.safe_dump(null_route_config()))
    port = free_port()
    log = open(workdir / "am.log", "wb")
    proc = subprocess.Popen(
        [BINARY, f"--config.file={config}", f"--storage.path={workdir / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{url}/-/ready", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None:
                raise RuntimeError((workdir / "am.log").read_text())
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
