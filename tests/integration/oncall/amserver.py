"""A real Alertmanager (Debian `prometheus-alertmanager`) on a free loopback port.

Its config is the production one from infra/alertmanager with the routes and receivers
swapped for a null receiver (nothing leaves loopback) and the inhibition rules kept, so
the tests exercise the inhibition rule exactly as deployed.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from portal.config import PROJECT_ROOT
from tests.servers import free_port, running

PRODUCTION_CONFIG = PROJECT_ROOT / "infra" / "alertmanager" / "alertmanager.yml"
BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def null_route_config() -> dict:
    """The production config with a null route; inhibit rules unchanged."""
    config = yaml.safe_load(PRODUCTION_CONFIG.read_text())
    return {"route": {"receiver": "null", "group_wait": "1s"},
            "receivers": [{"name": "null"}], "inhibit_rules": config["inhibit_rules"]}


@contextmanager
def running_alertmanager(workdir: Path, port: int | None = None) -> Iterator[str]:
    """Start Alertmanager (on `port`, or a free one), wait until ready, yield its base
    URL, stop it. Its silences live in `workdir`/data."""
    if BINARY is None:
        raise RuntimeError("prometheus-alertmanager is not installed (apt-get install "
                           "prometheus-alertmanager)")
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(yaml.safe_dump(null_route_config()))
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with running([BINARY, f"--config.file={config}", f"--storage.path={workdir / 'data'}",
                  f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                 ready=f"{url}/-/ready", log=workdir / "am.log", what="Alertmanager"):
        yield url
