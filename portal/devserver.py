"""`portal dev`: the embedded default stack in one command, for a laptop or a demo.

Migrates and seeds the database (the embedded PostgreSQL unless DATABASE_URL is set),
starts a Celery worker with an embedded beat, the five platform services (order,
inventory, fulfillment, worker, report) and a gentle load generator as child processes
sharing that database, then serves the portal until Ctrl-C (or SIGTERM), stopping the
children and then the embedded PostgreSQL it started on the way out.

The platform services run as separate processes (`python -m platform_services ...`): the
portal never imports them. Without REDIS_URL / RABBITMQ_URL / S3_ENDPOINT_URL they
degrade as documented in platform_services/README.md (events wait in the outbox tables,
idempotency rests on the unique constraint, objects go to INSTANCE_DIR/objects).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from werkzeug.serving import run_simple

from portal import embedded, migrate
from portal.demo.seed import credentials_table, seed_demo
from portal.extensions import db
from portal.health.demo import LOCAL_PORTS, local_url
from portal.tenants import service as tenants

DEMO_LOAD_TENANTS = 6  # a gentle load: a few tenants, one order a second


def _child_env(app) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = app.config["DATABASE_URL"]
    if app.config.get("OBJECT_STORE_DIR"):
        env["OBJECT_STORE_DIR"] = app.config["OBJECT_STORE_DIR"]
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    return env


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log_file = open(log_path, "ab")  # the child owns it from here on
    return subprocess.Popen([sys.executable, *args], env=env, stdout=log_file,
                            stderr=subprocess.STDOUT)


def _start_worker(app, log_dir: Path) -> subprocess.Popen:
    return _spawn(["-m", "celery", "-A", "portal.celery_app", "worker", "--beat",
                   "--concurrency=2", "--loglevel=INFO",
                   f"--schedule={log_dir / 'celerybeat-schedule'}"],
                  _child_env(app), log_dir / "worker.log")


def _services_env(app) -> dict[str, str]:
    env = _child_env(app)
    if app.config.get("REDIS_URL"):
        env["REDIS_URL"] = app.config["REDIS_URL"]
    env["INVENTORY_URL"] = local_url("inventory")
    env.setdefault("LOG_FORMAT", "json")
    return env


def _migrate_services(app) -> None:
    subprocess.run([sys.executable, "-m", "platform_services", "migrate"],
                   env=_services_env(app), check=True)


def _start_services(app, log_dir: Path, load: bool) -> list[subprocess.Popen]:
    env = _services_env(app)
    children = [_spawn(["-m", "platform_services", "serve", name],
                       {**env, "SERVICE_PORT": str(port)}, log_dir / f"service-{name}.log")
                for name, port in LOCAL_PORTS.items()]
    if load:
        with db.session_scope() as session:
            pairs = [f"{t.slug}:{t.id}" for t in tenants.list_all(session=session)]
        args = ["-m", "platform_services", "loadgen", "--rate", "1",
                "--order-url", local_url("order"), "--inventory-url", local_url("inventory"),
                "--worker-url", local_url("worker")]
        for pair in pairs[:DEMO_LOAD_TENANTS]:
            args += ["--tenant", pair]
        children.append(_spawn(args, env, log_dir / "loadgen.log"))
    return children


@click.command("dev")
@click.option("--worker/--no-worker", default=True, help="Start a Celery worker alongside.")
@click.option("--services/--no-services", default=True,
              help="Start the platform services (order, inventory, fulfillment, worker, report).")
@click.option("--load/--no-load", default=True,
              help="Drive gentle traffic at the services so dashboards and SLOs move.")
def dev_command(worker: bool, services: bool, load: bool) -> None:
    """Migrate, seed demo data, start a worker and the services, and serve the portal."""
    app = current_app._get_current_object()
    migrate.upgrade(app.config["DATABASE_URL"])
    log_dir = Path(app.config["INSTANCE_DIR"])
    if not (app.config.get("S3_ENDPOINT_URL") or app.config.get("OBJECT_STORE_DIR")):
        # No S3 to talk to: reports, and the services' objects, go to one folder that
        # _child_env hands to every child.
        app.config["OBJECT_STORE_DIR"] = str((log_dir / "objects").resolve())
    if services:
        # Before the seed, so the demo history goes into the services' own tables and the
        # dashboards roll it up from there like everything the services record later.
        _migrate_services(app)
    with db.session_scope() as session:
        rows = seed_demo(session=session, argon2_params=app.config["ARGON2_PARAMS"])
    children = [_start_worker(app, log_dir)] if worker else []
    if services:
        children += _start_services(app, log_dir, load)
    # SIGTERM (a supervisor, `timeout`) must stop the children too, like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = app.config["PORTAL_HOST"], app.config["PORTAL_PORT"]
    click.echo(credentials_table(rows))
    click.echo(f"\nPortal: http://{host}:{port}/   (logs: {log_dir}/*.log)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=20)
        db.engine.dispose()
        if app.config["DATABASE_EMBEDDED"]:  # started for this stack: ours to stop
            embedded.stop(app.config["INSTANCE_DIR"])
