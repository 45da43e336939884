"""The services through a real PgBouncer in transaction mode (as docker-compose.yml runs
them): a server pool much smaller than the clients' pools, so consecutive transactions of
one client land on different server connections. Server-side prepared statements or
session advisory locks would break here."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from platform_services.common.locks import job_lock
from platform_services.common.resources import make_engine
from tests.integration.services.servers import free_port, register, stock
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
SERVER_POOL = 2


def _pgbouncer_binary() -> str:
    """The pgbouncer executable, installed with apt by the bootstrap script if missing."""
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        subprocess.run([str(ROOT / "scripts" / "install-optional.sh"),
                        "the PgBouncer test will be skipped", "pgbouncer"], check=False)
        found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        pytest.skip("pgbouncer is not installed and could not be installed")
    return found


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {process.stderr.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("pgbouncer did not listen")


@pytest.fixture
def bouncer_url(services_db, tmp_path_factory):
    """A PgBouncer on a free loopback port in front of the test database, with the pool
    mode of infra/pgbouncer/pgbouncer.ini and only SERVER_POOL server connections."""
    binary = _pgbouncer_binary()
    target = make_url(services_db)
    port = free_port()
    folder = tmp_path_factory.mktemp("pgbouncer")
    folder.chmod(0o755)  # pgbouncer drops root privileges to `postgres` below
    userlist = folder / "userlist.txt"
    userlist.write_text(f'"{target.username}" ""\n')
    ini = folder / "pgbouncer.ini"
    ini.write_text(f"""[databases]
{target.database} = host={target.host or '127.0.0.1'} port={target.port or 5432} \
dbname={target.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {userlist}
pool_mode = transaction
max_client_conn = 200
default_pool_size = {SERVER_POOL}
max_db_connections = {SERVER_POOL}
ignore_startup_parameters = extra_float_digits
""")
    for path in (userlist, ini):
        path.chmod(0o644)
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
    process = subprocess.Popen([binary, *as_user, str(ini)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, process)
        yield target.set(drivername="postgresql", host="127.0.0.1", port=port) \
            .render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(10)


def test_orders_created_concurrently_through_pgbouncer_all_succeed(
        bouncer_url, config, run_service, tenant, services_db):
    inventory = run_service(config("inventory", database_url=bouncer_url, redis_url=None,
                                   db_pool_size=8, db_max_overflow=0, db_pool_timeout=30))
    order = run_service(config("order", database_url=bouncer_url, redis_url=None,
                               inventory_url=inventory.url, db_pool_size=8,
                               db_max_overflow=0, db_pool_timeout=30))
    for service in (inventory, order):
        register(service.url, tenant)
    stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 500})
    url = f"{order.url}/v1/tenants/{tenant[1]}/orders"

    def post(n: int):
        # Twenty requests per client connection: psycopg would prepare from the fifth on.
        return api.post(url, json={"lines": [{"sku": "SKU-1", "quantity": 1}]},
                        headers={"Idempotency-Key": f"bouncer-{n}"}, timeout=60)

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(post, range(120)))

    assert [r.status_code for r in responses if r.status_code != 201] == []
    assert len({r.json()["id"] for r in responses}) == 120
    direct = create_engine(services_db)
    with direct.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM orders.orders WHERE tenant_id = :t"),
                           {"t": tenant[0]}) == 120
        assert conn.scalar(text("SELECT reserved FROM inventory.stock WHERE tenant_id = :t"),
                           {"t": tenant[0]}) == 120
    direct.dispose()


def test_the_job_lock_fallback_holds_and_releases_through_pgbouncer(bouncer_url):
    engine = make_engine(bouncer_url, pool_size=4, max_overflow=0)
    try:
        with job_lock(client=None, engine=engine, name="pgbouncer-test-lock") as held:
            assert held
            with job_lock(client=None, engine=engine, name="pgbouncer-test-lock") as twin:
                assert not twin
        # Released with its transaction: nothing lingers on a pooled server connection.
        for _ in range(2 * SERVER_POOL):
            with job_lock(client=None, engine=engine, name="pgbouncer-test-lock") as again:
                assert again
    finally:
        engine.dispose()
