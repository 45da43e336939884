"""Resident memory of every process type, measured the way production runs them: the
figures the Helm charts' memory requests and limits are sized from.

    .venv/bin/python tests/bench/bench_rss.py [--requests 200] [--services order,auth]

Each platform service's web process (gunicorn, the services' config: 1 worker, 16 threads)
and background process, then the portal under gunicorn (GUNICORN_WORKERS=2, 4 threads),
a Celery worker (prefork, concurrency 2) and beat. Each web process first answers
`--requests` authenticated requests so its caches, pools and thread stacks are in use.
RSS is read from /proc (VmRSS) for the master and each child. Uses a scratch database on
the local PostgreSQL (dropped after), Redis and RabbitMQ. Not run by CI; the figures go
to docs/benchmarks.md and the charts' values.yaml.
"""
from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from platform_services.common import migrate as services_migrate  # noqa: E402
from platform_services.common.config import SERVICES  # noqa: E402
from platform_services.common.jwt_auth import audience_of  # noqa: E402
from platform_services.common.runner import background_command  # noqa: E402
from portal import migrate as portal_migrate  # noqa: E402
from tests import databases  # noqa: E402
from tests.integration.services import gunicorn, tokens  # noqa: E402
from tests.servers import free_port, wait_until  # noqa: E402

BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
# The services with a background process type are those docker-compose.yml runs one for.
COMPOSE = (ROOT / "docker-compose.yml").read_text()


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` in KiB (0 when it is gone)."""
    return _proc_field(pid, "status", "VmRSS:")


def pss_kib(pid: int) -> int:
    """Proportional set size of `pid` in KiB: pages shared with the other processes of
    the container (gunicorn's fork) counted once in total, as the cgroup counts them."""
    return _proc_field(pid, "smaps_rollup", "Pss:")


def _proc_field(pid: int, name: str, field: str) -> int:
    """A KiB figure from /proc/<pid>/<name> (0 when the process is gone)."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    """Direct children of `pid`."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False).stdout
    return [int(p) for p in out.split()]


def report(name: str, pid: int) -> None:
    kids = children(pid)
    master = rss_kib(pid) / 1024
    each = [rss_kib(k) / 1024 for k in kids]
    pss = sum(pss_kib(p) for p in [pid, *kids]) / 1024
    print(f"{name:28} RSS master {master:6.1f} MiB, children "
          f"{', '.join(f'{m:.1f}' for m in each) or '-':14} sum {master + sum(each):6.1f} MiB;"
          f" PSS sum {pss:6.1f} MiB", flush=True)


def measure_service(name: str, env: dict[str, str], auth_url: str, n: int, tmp: Path) -> None:
    server = gunicorn.service(name, env, tmp / f"{name}.log")
    try:
        token = tokens.credentials(auth_url).token(audience_of(name))
        auth = {"Authorization": f"Bearer {token}"}
        for _ in range(n):
            requests.get(f"{server.url}/readyz", headers=auth, timeout=10)
            requests.get(f"{server.url}/metrics", headers=auth, timeout=10)
        report(f"{name} web", server.proc.pid)
    finally:
        server.stop()
    if f"{name}-background:" not in COMPOSE:
        return
    log = tmp / f"{name}-background.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(background_command(name), env={**os.environ, **env},
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        # Measured once every loop has started (it logs their names) and run a moment.
        wait_until(lambda: f"{name} background:" in log.read_text(), 60,
                   f"{name} background", proc, log)
        time.sleep(3)
        report(f"{name} background", proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)


def measure_portal(url: str, tmp: Path, n: int) -> None:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16),
           "CELERY_BROKER_URL": BROKER_URL, "REDIS_URL": "redis://127.0.0.1:6379/13",
           "CELERY_RESULT_BACKEND": "redis://127.0.0.1:6379/13", "GUNICORN_WORKERS": "2",
           "GUNICORN_THREADS": "4", "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prom"),
           "INSTANCE_DIR": str(tmp / "instance"), "LOG_FORMAT": "text"}
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    with (tmp / "portal.log").open("wb") as out:
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                "portal:create_app()"], env=env, cwd=ROOT, stdout=out,
                               stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=2).ok, 60, "portal", web)
        for _ in range(n):
            requests.get(f"{base}/login", timeout=10)
            requests.get(f"{base}/readyz", timeout=10)
        report("portal web (2 workers)", web.pid)
    finally:
        web.terminate()
        web.wait(60)
    celery = [sys.executable, "-m", "celery", "-A", "portal.celery_app"]
    with (tmp / "worker.log").open("wb") as out:
        worker = subprocess.Popen([*celery, "worker", "--concurrency=2", "--loglevel=INFO",
                                   "-Q", f"rss-{secrets.token_hex(3)}"], env=env, cwd=ROOT,
                                  stdout=out, stderr=subprocess.STDOUT)
        beat = subprocess.Popen([*celery, "beat", "--loglevel=INFO",
                                 f"--schedule={tmp / 'beat-schedule'}"], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    log = tmp / "worker.log"
    wait_until(lambda: " ready." in log.read_text() and "beat: Starting" in log.read_text(),
               90, "celery worker and beat", worker, log)
    time.sleep(5)
    report("celery worker (prefork 2)", worker.pid)
    report("celery beat", beat.pid)
    for proc in (worker, beat):
        proc.terminate()
        proc.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--services", default=",".join(SERVICES))
    parser.add_argument("--no-portal", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-rss-"))
    services_url = databases.create_database(f"bench_rss_{os.getpid()}",
                                             services_migrate.upgrade)
    portal_url = databases.create_database(f"bench_rss_portal_{os.getpid()}",
                                           portal_migrate.upgrade)
    auth_gen = tokens.platform_auth(services_url)
    auth = next(auth_gen)
    try:
        prefix = f"rss{os.getpid()}."
        env = gunicorn.deployed_env(services_url, auth.url, prefix, LOG_FORMAT="text",
                                    RABBITMQ_URL=BROKER_URL,
                                    AUTH_PLATFORM_CLIENTS_FILE=str(tokens.CLIENTS_FILE))
        for name in args.services.split(","):
            measure_service(name, env, auth.url, args.requests, tmp)
        if not args.no_portal:
            measure_portal(portal_url, tmp, args.requests)
    finally:
        next(auth_gen, None)
        databases.drop_database(services_url)
        databases.drop_database(portal_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
