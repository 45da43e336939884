"""Real servers for the tenants tests: moto's S3 server as a subprocess on a free loopback
port, a database with the platform services' migrations applied, an aiosmtpd inbox."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

from platform_services.common import migrate as services_migrate
from tests.conftest import create_database, drop_database
from tests.servers import closed_port, free_port, running  # noqa: F401 (closed_port: for the tests)


@contextmanager
def moto_s3():
    """`moto_server -H 127.0.0.1 -p PORT`; yields its URL and stops it afterwards."""
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    url = f"http://127.0.0.1:{port}"
    with running([str(binary), "-H", "127.0.0.1", "-p", str(port)], ready=f"{url}/moto-api/",
                 timeout=10, what="moto_server"):
        yield url


@contextmanager
def services_database():
    """A portal database that also has the services' schemas (their own migrations)."""
    url = create_database("_tenants")
    services_migrate.upgrade(url)
    try:
        yield url
    finally:
        drop_database(url)
