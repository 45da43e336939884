"""Alertmanager and Prometheus for `portal dev`: real servers on free loopback ports.

The production configs in infra/alertmanager and infra/prometheus are rendered into
INSTANCE_DIR with what only exists at run time (the ports of this stack, the portal's
webhook URL, a generated webhook token), so the routes and rules a newcomer sees alerting
are the ones production runs. Without the binaries the stack runs without alerting, and
`AlertingStack.problem` says why (the portal shows it as a banner).
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

INFRA_DIR = Path(__file__).resolve().parents[1] / "infra"
PORTAL_RECEIVER = "portal"  # the receiver of alertmanager.yml that calls the portal's webhook
READY_SECONDS = 20.0
INSTALL_HINT = ("run scripts/bootstrap.sh as root, or apt-get install prometheus "
                "prometheus-alertmanager")


@dataclass(frozen=True)
class ScrapeClient:
    """The OAuth client Prometheus scrapes the services' /metrics with (they want a token)."""
    token_url: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class StackSpec:
    """Where the portal and the services of this `portal dev` listen."""
    instance_dir: Path
    portal_address: str
    webhook_url: str
    services: dict[str, str]  # service name → host:port
    webhook_token: str | None = None
    scrape_client: ScrapeClient | None = None


@dataclass
class AlertingStack:
    """The running servers (or the reason there are none) and what the portal needs to know."""
    alertmanager_url: str | None = None
    prometheus_url: str | None = None
    webhook_token: str | None = None
    problem: str | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The settings that point the portal and its worker at these servers."""
        values = {"ALERTMANAGER_URL": self.alertmanager_url,
                  "PROMETHEUS_URL": self.prometheus_url,
                  "ALERTMANAGER_WEBHOOK_TOKEN": self.webhook_token}
        return {k: v for k, v in values.items() if v}

    def stop(self) -> None:
        """Terminate both servers, killing what has not exited after 10 s."""
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.processes.clear()


def binaries() -> tuple[str | None, str | None]:
    """Paths of the Alertmanager (Debian's name first) and Prometheus executables, if any."""
    return (shutil.which("prometheus-alertmanager") or shutil.which("alertmanager"),
            shutil.which("prometheus"))


def free_port() -> int:
    """A loopback port nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_alertmanager(source: Path, *, webhook_url: str, token_file: Path) -> dict:
    """alertmanager.yml with the portal receiver pointed at this portal and its token file.

    The other receivers keep their names (so every route stays valid) but lose their
    integrations: there is no Slack or SMTP relay on a laptop to deliver to.
    """
    config = yaml.safe_load(source.read_text())
    receivers = []
    for receiver in config["receivers"]:
        if receiver["name"] != PORTAL_RECEIVER:
            receivers.append({"name": receiver["name"]})
            continue
        for hook in receiver["webhook_configs"]:
            hook["url"] = webhook_url
            hook["http_config"] = {"authorization": {"type": "Bearer",
                                                     "credentials_file": str(token_file)}}
        receivers.append(receiver)
    config["receivers"] = receivers
    return config


def rule_files(prometheus_dir: Path) -> list[Path]:
    """Every `*_rules*.yml` rule file there (SLO, dead-letter and other alerts), promtool's
    unit-test files left out."""
    return sorted(p.resolve() for p in prometheus_dir.glob("*_rules*.yml")
                  if not p.stem.endswith("_test"))


def render_prometheus(source: Path, *, rules: list[Path], alertmanager: str, prometheus: str,
                      portal: str, services: dict[str, str], oauth2: dict | None = None) -> dict:
    """prometheus.yml scraping this stack's portal, itself and services, alerting to `alertmanager`.

    Jobs naming hosts that only exist in docker-compose (anything not below) are dropped.
    With `oauth2` (Prometheus's client-credentials block) each service gets a job of its
    own, since a token names one service as its audience; relabelling keeps their `job`
    label the shared one the SLO rules and dashboards know.
    """
    config = yaml.safe_load(source.read_text())
    targets = {"portal": [portal], "prometheus": [prometheus],
               "platform-services": list(services.values())}
    config["rule_files"] = [str(p) for p in rules]
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    jobs = []
    for job in config["scrape_configs"]:
        if not targets.get(job["job_name"]):
            continue
        if job["job_name"] == "platform-services" and oauth2:
            jobs += [_service_job(job, name, address, oauth2)
                     for name, address in services.items()]
            continue
        job["static_configs"] = [{"targets": targets[job["job_name"]]}]
        jobs.append(job)
    config["scrape_configs"] = jobs
    return config


def _service_job(shared: dict, name: str, address: str, oauth2: dict) -> dict:
    # The services' audience naming (platform_services.common.jwt_auth.audience_of); the
    # portal talks to the services only over HTTP, so it is spelled out here.
    audience = f"meridian-{name}"
    return {**shared, "job_name": f"{shared['job_name']}-{name}",
            "static_configs": [{"targets": [address]}],
            "oauth2": {**oauth2, "endpoint_params": {"audience": audience}},
            "relabel_configs": [{"target_label": "job", "replacement": shared["job_name"]}]}


def _write(path: Path, content: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(content)
    os.chmod(path, mode)  # an existing file keeps its old mode otherwise
    return path


def _launch(args: list[str], log_path: Path, ready_url: str, what: str) -> subprocess.Popen:
    with open(log_path, "ab") as log_file:  # the child keeps its own copy
        proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT)
    end = time.monotonic() + READY_SECONDS
    while time.monotonic() < end and proc.poll() is None:
        try:
            if requests.get(ready_url, timeout=1).ok:
                return proc
        except requests.RequestException:
            pass  # not listening yet
        time.sleep(0.2)
    proc.terminate()
    proc.wait(timeout=10)
    raise RuntimeError(f"{what} did not start (see {log_path})")


def start(spec: StackSpec) -> AlertingStack:
    """Start Alertmanager, then Prometheus; on any failure return a stack with `problem` set."""
    am_bin, prom_bin = binaries()
    missing = [name for name, path in (("prometheus-alertmanager", am_bin),
                                       ("prometheus", prom_bin)) if path is None]
    if missing or am_bin is None or prom_bin is None:  # (missing names the None ones)
        return AlertingStack(problem=f"{' and '.join(missing)} not installed ({INSTALL_HINT}).")
    stack = AlertingStack(webhook_token=spec.webhook_token or secrets.token_urlsafe(32))
    try:
        am_port = _start_alertmanager(stack, am_bin, spec)
        _start_prometheus(stack, prom_bin, spec, am_port)
    except (RuntimeError, OSError, yaml.YAMLError) as exc:
        stack.stop()
        return AlertingStack(problem=str(exc))
    return stack


def _start_alertmanager(stack: AlertingStack, binary: str, spec: StackSpec) -> int:
    home = spec.instance_dir / "alertmanager"
    assert stack.webhook_token is not None  # why: start() gives every stack it runs a token
    token_file = _write(home / "webhook-token", stack.webhook_token, 0o600)
    config = render_alertmanager(INFRA_DIR / "alertmanager" / "alertmanager.yml",
                                 webhook_url=spec.webhook_url, token_file=token_file)
    config_file = _write(home / "alertmanager.yml", yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    (home / "data").mkdir(exist_ok=True)
    # An empty cluster address keeps Alertmanager from gossiping on 0.0.0.0:9094.
    stack.processes.append(_launch(
        [binary, f"--config.file={config_file}", f"--storage.path={home / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        spec.instance_dir / "alertmanager.log", f"http://127.0.0.1:{port}/-/ready",
        "Alertmanager"))
    stack.alertmanager_url = f"http://127.0.0.1:{port}"
    return port


def _start_prometheus(stack: AlertingStack, binary: str, spec: StackSpec, am_port: int) -> None:
    home = spec.instance_dir / "prometheus"
    port = free_port()
    oauth2 = None
    if spec.scrape_client is not None:
        client = spec.scrape_client
        secret_file = _write(home / "scrape-client-secret", client.client_secret, 0o600)
        oauth2 = {"client_id": client.client_id, "client_secret_file": str(secret_file),
                  "token_url": client.token_url, "scopes": ["ops:read"]}
    config = render_prometheus(
        INFRA_DIR / "prometheus" / "prometheus.yml", rules=rule_files(INFRA_DIR / "prometheus"),
        alertmanager=f"127.0.0.1:{am_port}", prometheus=f"127.0.0.1:{port}",
        portal=spec.portal_address, services=spec.services, oauth2=oauth2)
    config_file = _write(home / "prometheus.yml", yaml.safe_dump(config, sort_keys=False))
    (home / "data").mkdir(exist_ok=True)
    stack.processes.append(_launch(
        [binary, f"--config.file={config_file}", f"--storage.tsdb.path={home / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        spec.instance_dir / "prometheus.log", f"http://127.0.0.1:{port}/-/ready", "Prometheus"))
    stack.prometheus_url = f"http://127.0.0.1:{port}"
