"""`portal dev`: the embedded default stack in one command, for a laptop or a demo.

Migrates and seeds the database (the embedded PostgreSQL unless DATABASE_URL is set),
starts Alertmanager and Prometheus (portal/dev_alerting.py), a Celery worker with an
embedded beat, the platform services and a gentle load generator as child processes
sharing that database, then serves the portal until Ctrl-C (or SIGTERM), stopping the
children, Alertmanager and Prometheus, and then the embedded PostgreSQL it started on the
way out.

The platform services run as separate processes (`python -m platform_services ...`): the
portal never imports them. Without REDIS_URL / RABBITMQ_URL / S3_ENDPOINT_URL they
degrade as documented in platform_services/README.md (events travel through a queue table
of the same database, idempotency rests on the unique constraint, objects go to
INSTANCE_DIR/objects).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app, url_for

from portal import dev_alerting, dev_clients, dev_edge, embedded, migrate
from portal.auth import oidc_demo
from portal.demo.seed import credentials_table, seed_demo
from portal.extensions import db
from portal.health.demo import LOCAL_PORTS, local_url
from portal.tenants import service as tenants

DEMO_LOAD_TENANTS = 6  # a gentle load: a few tenants, one order a second
SERVICES_WITHOUT_BACKGROUND = frozenset({"auth"})  # nothing to relay or consume
GUNICORN_CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
PORTAL_WORKERS = "2"  # enough for the demo on a laptop; production sizes it per host


def _child_env(app) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = app.config["DATABASE_URL"]
    if app.config.get("OBJECT_STORE_DIR"):
        env["OBJECT_STORE_DIR"] = app.config["OBJECT_STORE_DIR"]
    for name in ("ALERTMANAGER_URL", "PROMETHEUS_URL", "ALERTMANAGER_WEBHOOK_TOKEN",
                 "PUBLIC_BASE_URL"):
        if app.config.get(name):
            env[name] = app.config[name]
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
                  {**_child_env(app), **_portal_client_env(app)}, log_dir / "worker.log")


def _serve_portal(app, log_dir: Path, host: str, port: int,
                  sso: oidc_demo.DemoProvider | None = None) -> subprocess.Popen:
    """The portal under gunicorn with gunicorn.conf.py, the server production runs."""
    env = {**_child_env(app), **_portal_client_env(app), "GUNICORN_BIND": f"{host}:{port}",
           **(sso.settings if sso else {}),
           "PROMETHEUS_MULTIPROC_DIR": str(log_dir / "prometheus-multiproc")}
    env.setdefault("GUNICORN_WORKERS", PORTAL_WORKERS)
    if app.config.get("ALERTING_NOT_CONNECTED"):
        env["ALERTING_NOT_CONNECTED"] = app.config["ALERTING_NOT_CONNECTED"]
    return _spawn(["-m", "gunicorn", "-c", str(GUNICORN_CONF), "portal:create_app()"], env,
                  log_dir / "portal.log")


def _portal_client_env(app) -> dict[str, str]:
    """The portal's platform client, for the worker's scrapes of the services' /metrics."""
    names = ("SERVICES_AUTH_URL", "SERVICES_CLIENT_ID", "SERVICES_CLIENT_SECRET")
    return {name: app.config[name] for name in names if app.config.get(name)}


def _services_env(app) -> dict[str, str]:
    env = _child_env(app)
    if app.config.get("REDIS_URL"):
        env["REDIS_URL"] = app.config["REDIS_URL"]
    env["INVENTORY_URL"] = local_url("inventory")
    # Every service call needs a token from the auth service; the platform's own clients
    # (portal, services, load generator) come from the file `portal dev` writes.
    env["AUTH_URL"] = local_url("auth")
    clients = app.extensions.get("dev_clients")
    if clients is not None:
        env["AUTH_PLATFORM_CLIENTS_FILE"] = str(clients.path)
        env.update(clients.env("meridian-services"))
    if not env.get("RABBITMQ_URL"):
        # No RabbitMQ: the services' events travel through queue tables of this same
        # database (platform_services/common/queue_table.py), so orders reach fulfillment.
        env["RABBITMQ_URL"] = app.config["DATABASE_URL"]
    env.setdefault("LOG_FORMAT", "json")
    return env


def _migrate_services(app) -> None:
    subprocess.run([sys.executable, "-m", "platform_services", "migrate"],
                   env=_services_env(app), check=True)


def _start_services(app, log_dir: Path, load: bool,
                    edge: dev_edge.Edge | None = None) -> list[subprocess.Popen]:
    env = _services_env(app)
    # As in production: each service's web process under gunicorn, and its background work
    # (outbox relay, consumers) as a process of its own. Literal argv: the portal never
    # imports platform_services (platform_services.common.runner builds the same commands).
    children = []
    for name, port in LOCAL_PORTS.items():
        children.append(_spawn(
            ["-m", "gunicorn", "-c", "python:platform_services.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", f'platform_services.wsgi:create("{name}")'],
            {**env, "SERVICE_PORT": str(port)}, log_dir / f"service-{name}.log"))
        if name not in SERVICES_WITHOUT_BACKGROUND:
            children.append(_spawn(["-m", "platform_services", "background", name],
                                   {**env, "SERVICE_PORT": str(port)},
                                   log_dir / f"service-{name}-background.log"))
    if load:
        with db.session_scope() as session:
            pairs = [f"{t.slug}:{t.id}" for t in tenants.list_all(session=session)]
        # Through the edge when there is one, like production traffic.
        url = edge.service_url if edge else local_url
        args = ["-m", "platform_services", "loadgen", "--rate", "1",
                "--order-url", url("order"), "--inventory-url", url("inventory"),
                "--worker-url", url("worker"), "--auth-url", url("auth")]
        for pair in pairs[:DEMO_LOAD_TENANTS]:
            args += ["--tenant", pair]
        load_env = {**env, **app.extensions["dev_clients"].env("meridian-loadgen")}
        children.append(_spawn(args, load_env, log_dir / "loadgen.log"))
    return children


def _start_alerting(app, services: bool) -> dev_alerting.AlertingStack:
    """Alertmanager and Prometheus for this stack, unless real ones are configured."""
    if app.config.get("ALERTMANAGER_URL") or app.config.get("PROMETHEUS_URL"):
        return dev_alerting.AlertingStack()  # the operator's own servers: nothing to start
    host, port = app.config["PORTAL_HOST"], app.config["PORTAL_PORT"]
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"  # a wildcard listener answers on loopback too
    with app.test_request_context():
        webhook_path = url_for("oncall.alertmanager_webhook")
    clients = app.extensions.get("dev_clients")
    stack = dev_alerting.start(dev_alerting.StackSpec(
        instance_dir=Path(app.config["INSTANCE_DIR"]).resolve(),
        portal_address=f"{host}:{port}", webhook_url=f"http://{host}:{port}{webhook_path}",
        services={n: f"127.0.0.1:{p}" for n, p in LOCAL_PORTS.items()} if services else {},
        webhook_token=app.config.get("ALERTMANAGER_WEBHOOK_TOKEN"),
        # The portal's own client may read the services' /metrics (ops:read).
        scrape_client=dev_alerting.ScrapeClient(
            f"{local_url('auth')}/oauth/token", "meridian-portal",
            clients.secrets["meridian-portal"]) if clients else None))
    app.config.update(stack.env())
    app.config["ALERTING_NOT_CONNECTED"] = stack.problem
    return stack


@click.command("dev")
@click.option("--worker/--no-worker", default=True, help="Start a Celery worker alongside.")
@click.option("--services/--no-services", default=True,
              help="Start the platform services on their local ports.")
@click.option("--load/--no-load", default=True,
              help="Drive gentle traffic at the services so dashboards and SLOs move.")
def dev_command(worker: bool, services: bool, load: bool) -> None:
    """Migrate, seed demo data, start a worker and the services, and serve the portal."""
    # current_app is a LocalProxy; its typing is the Flask app it stands for.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "PUBLIC_BASE_URL" not in os.environ:
        # The demo's own address, so e-mailed links and the SSO redirect follow PORTAL_PORT.
        host = app.config["PORTAL_HOST"]
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        app.config["PUBLIC_BASE_URL"] = f"http://{host}:{app.config['PORTAL_PORT']}"
    migrate.upgrade(app.config["DATABASE_URL"])
    log_dir = Path(app.config["INSTANCE_DIR"])
    if not (app.config.get("S3_ENDPOINT_URL") or app.config.get("OBJECT_STORE_DIR")):
        # No S3 to talk to: reports, and the services' objects, go to one folder that
        # _child_env hands to every child.
        app.config["OBJECT_STORE_DIR"] = str((log_dir / "objects").resolve())
    if services:
        clients = app.extensions["dev_clients"] = dev_clients.create(app.config["INSTANCE_DIR"])
        app.config.update(clients.portal_config(local_url("auth")))
        # Before the seed, so the demo history goes into the services' own tables and the
        # dashboards roll it up from there like everything the services record later.
        _migrate_services(app)
    with db.session_scope() as session:
        rows = seed_demo(session=session, argon2_params=app.config["ARGON2_PARAMS"])
    # SIGTERM (a supervisor, `timeout`) must stop the children too, like Ctrl-C does; and
    # Ctrl-C must work even when a launching shell left SIGINT ignored (a background job).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    alerting = _start_alerting(app, services)
    children: list[subprocess.Popen] = []
    edge = None
    sso = None
    try:
        children += [_start_worker(app, log_dir)] if worker else []
        if services:
            edge = dev_edge.start_for_dev(log_dir, LOCAL_PORTS)
            children += _start_services(app, log_dir, load, edge)
        host, port = app.config["PORTAL_HOST"], app.config["PORTAL_PORT"]
        sso = oidc_demo.start(app.config, log_dir)  # "Sign in with SSO" for the demo
        portal = _serve_portal(app, log_dir, host, port, sso)
        children.insert(0, portal)  # stopped first, so no request meets a stopped service
        click.echo(credentials_table(rows))
        click.echo(f"\nPortal: http://{host}:{port}/   (gunicorn; logs: {log_dir}/*.log)")
        if edge is not None:
            click.echo(f"Edge (nginx): {edge.url}/<service>/v1/...   (log: {edge.access_log})")
        if sso is not None:
            click.echo(f"Single sign-on: {sso.issuer} (\"Sign in with SSO\" signs in "
                       f"{oidc_demo.NEWCOMER['email']}, a developer)")
        click.echo(f"Alerting is not connected: {alerting.problem}" if alerting.problem else
                   f"Alertmanager: {app.config.get('ALERTMANAGER_URL') or '-'}   "
                   f"Prometheus: {app.config.get('PROMETHEUS_URL') or '-'}")
        try:
            code = portal.wait()
            click.echo(f"The portal's gunicorn exited ({code}); see {log_dir / 'portal.log'}.",
                       err=True)
        except KeyboardInterrupt:
            click.echo("\nStopping.")  # Ctrl-C is how a newcomer stops the stack: not an error
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=20)
        if edge is not None:
            edge.stop()
        if sso is not None:
            sso.stop()
        alerting.stop()
        db.engine.dispose()
        if app.config["DATABASE_EMBEDDED"]:  # started for this stack: ours to stop
            embedded.stop(app.config["INSTANCE_DIR"])
