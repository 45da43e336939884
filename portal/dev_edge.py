"""The edge of `portal dev`: nginx in front of the platform services, as in production.

Renders infra/nginx/nginx.conf.template (JWT check at the auth service, per-tenant rate
limit, routing `/<service>/v1/...` to each service) into a prefix folder and runs nginx
in the foreground as a child process. Without an nginx binary nothing is started and the
caller keeps talking to the services directly.
"""
from __future__ import annotations

import getpass
import math
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import click
import jinja2

TEMPLATE = Path(__file__).resolve().parents[1] / "infra" / "nginx" / "nginx.conf.template"
# Behind the edge, under /<name>/v1/...; auth is reached through its own unauthenticated
# routes (/auth/oauth/..., /auth/.well-known/jwks.json).
ROUTED_SERVICES = ("order", "inventory", "fulfillment", "billing", "notification", "search",
                   "worker")
DEV_EDGE_PORT = 8100


class EdgeFailed(RuntimeError):
    """nginx refused the configuration or did not come up; the message has its log."""


@dataclass(frozen=True)
class Tls:
    """An HTTPS listener: `listen` address and the PEM certificate and key paths."""
    listen: str
    certificate: Path
    certificate_key: Path


@dataclass(frozen=True)
class EdgeSpec:
    """What the edge serves: service name → upstream host:port, the auth upstream, its own
    listen address, limits (rate per tenant per second, burst, body size), TLS."""
    prefix: Path
    listen: str
    auth_upstream: str
    upstreams: dict[str, str]
    rate: int = 20
    burst: int = 40
    max_body_size: str = "1m"
    token_cache_seconds: int = 5
    tls: Tls | None = None
    workers: int = 1


def binary() -> str | None:
    """The nginx executable on PATH (Debian also installs it in /usr/sbin), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render(spec: EdgeSpec) -> str:
    """The nginx.conf text for `spec`."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(TEMPLATE.read_text())
    services = [{"name": name, "upstream": upstream, "audience": f"meridian-{name}"}
                for name, upstream in spec.upstreams.items()]
    # A root-started nginx would hand its workers to an unprivileged user who cannot
    # enter a private prefix folder; a development edge keeps the starting user.
    user = getpass.getuser() if os.geteuid() == 0 else None
    return template.render(
        prefix=spec.prefix, listen=spec.listen, auth_upstream=spec.auth_upstream,
        services=services, rate=spec.rate, burst=spec.burst,
        retry_after=max(1, math.ceil(1 / spec.rate)), max_body_size=spec.max_body_size,
        token_cache_seconds=spec.token_cache_seconds, tls=spec.tls, workers=spec.workers,
        user=user)


def write_config(spec: EdgeSpec) -> Path:
    """Render `spec` into `<prefix>/nginx.conf` (creating the folders nginx needs)."""
    for folder in ("tmp", "cache"):
        (spec.prefix / folder).mkdir(parents=True, exist_ok=True)
    conf = spec.prefix / "nginx.conf"
    conf.write_text(render(spec))
    return conf


def check(nginx: str, conf: Path, prefix: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on `conf`: returncode 0 when nginx accepts it (its report on stderr)."""
    return subprocess.run([nginx, "-t", "-p", str(prefix), "-e", str(prefix / "error.log"),
                           "-c", str(conf)], capture_output=True, text=True, timeout=30)


class Edge:
    """A running nginx (foreground child) serving `spec`."""

    def __init__(self, spec: EdgeSpec, proc: subprocess.Popen) -> None:
        self.spec, self.proc = spec, proc
        host, _, port = spec.listen.rpartition(":")
        self.url = f"http://{host or '127.0.0.1'}:{port}"
        self.access_log = spec.prefix / "access.log"

    def service_url(self, name: str) -> str:
        """Where a client reaches service `name` (auth: its token and key routes)."""
        return f"{self.url}/{name}"

    def stop(self) -> None:
        """Fast shutdown (SIGTERM), then wait for the master to exit."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _wait_listening(address: str, proc: subprocess.Popen, timeout: float) -> bool:
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def start(spec: EdgeSpec, nginx: str | None = None, timeout: float = 15.0) -> Edge:
    """Check and start nginx for `spec`; EdgeFailed (with nginx's words) if it cannot."""
    nginx = nginx or binary()
    if nginx is None:
        raise EdgeFailed("nginx is not installed")
    conf = write_config(spec)
    checked = check(nginx, conf, spec.prefix)
    if checked.returncode != 0:
        raise EdgeFailed(f"nginx rejected {conf}: {checked.stderr.strip()}")
    log = spec.prefix / "error.log"
    proc = subprocess.Popen([nginx, "-p", str(spec.prefix), "-e", str(log), "-c", str(conf),
                             "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    if not _wait_listening(spec.listen, proc, timeout):
        edge = Edge(spec, proc)
        edge.stop()
        raise EdgeFailed(f"nginx did not start: {log.read_text()[-2000:] if log.exists() else ''}")
    return Edge(spec, proc)


def start_for_dev(instance_dir: Path, ports: dict[str, int]) -> Edge | None:
    """The `portal dev` edge on 127.0.0.1:8100 in front of the local services at `ports`,
    or None when nginx is not installed or cannot start (said on stderr): callers then
    use the services directly."""
    if binary() is None:
        return None
    prefix = (instance_dir / "edge").resolve()
    spec = EdgeSpec(prefix=prefix, listen=f"127.0.0.1:{DEV_EDGE_PORT}",
                    auth_upstream=f"127.0.0.1:{ports['auth']}",
                    upstreams={name: f"127.0.0.1:{ports[name]}" for name in ROUTED_SERVICES})
    try:
        return start(spec)
    except EdgeFailed as exc:
        click.echo(f"The edge is not running, traffic goes to the services directly: {exc}",
                   err=True)
        return None
