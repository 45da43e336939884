"""Real servers for the tenants tests: moto's S3 server as a subprocess on a free loopback
port, a database with the platform services' migrations applied, an aiosmtpd inbox."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from platform_services.common import migrate as services_migrate
from tests.conftest import create_database, drop_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_s3():
    """`moto_server -H 127.0.0.1 -p PORT`; yields its URL and stops it afterwards."""
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{url}/moto-api/", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto_server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def services_database():
    """A portal database that also has the services' schemas (their own migrations)."""
    url = create_database("_tenants")
    services_migrate.upgrade(url)
    try:
        yield url
    finally:
        drop_database(url)
