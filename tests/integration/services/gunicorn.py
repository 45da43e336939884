"""Serving a service the production way in tests and benchmarks: gunicorn with the
services' config file and the WSGI factory, as a child process on a free port."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import requests

from platform_services.common.runner import GUNICORN_CONF, web_command
from tests.integration.services.servers import REDIS_URL
from tests.integration.services.tokens import service_credentials
from tests.servers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[3]


def deployed_env(database_url: str, auth_url: str, prefix: str, **extra: str) -> dict[str, str]:
    """The environment a deployed service gets: this run's database, Redis and names (under
    `prefix`), and the platform client the services call each other with."""
    creds = service_credentials(auth_url)
    return {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix,
            "EXCHANGE_PREFIX": prefix, "AUTH_URL": creds["auth_url"],
            "SERVICE_CLIENT_ID": creds["client_id"],
            "SERVICE_CLIENT_SECRET": creds["client_secret"], **extra}


class Gunicorn:
    """A running gunicorn (its master in `proc`) serving at `url`; `argv(port)` is the
    command line that binds it to `port`."""

    def __init__(self, argv: Callable[[int], list[str]], env: dict[str, str],
                 log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(argv(self.port), env={**os.environ, **env}, cwd=ROOT,
                                         stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: requests.get(f"{self.url}/healthz", timeout=2).ok,
                       timeout=60, what=" ".join(argv(self.port)), proc=self.proc, log=log)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise

    def stop(self) -> int:
        """SIGTERM (graceful: workers finish requests and run worker_exit); exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(60)


def service(name: str, env: dict[str, str], log: Path) -> Gunicorn:
    """Serve platform service `name` with its production web command (DATABASE_URL,
    AUTH_URL... in `env`)."""
    return Gunicorn(lambda port: web_command(name, "127.0.0.1", port), env, log)


def app(spec: str, env: dict[str, str], log: Path) -> Gunicorn:
    """Serve the WSGI app `spec` (module:factory()) with the services' gunicorn settings."""
    return Gunicorn(lambda port: [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONF,
                                  "--bind", f"127.0.0.1:{port}", spec], env, log)
