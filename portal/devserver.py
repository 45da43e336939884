"""`portal dev`: the embedded default stack in one command, for a laptop or a demo.

Migrates and seeds the database (the embedded PostgreSQL unless DATABASE_URL is set),
starts a Celery worker with an embedded beat as a child process sharing that database,
then serves the portal until Ctrl-C, stopping the children on the way out.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from werkzeug.serving import run_simple

from portal import migrate
from portal.demo.seed import credentials_table, seed_demo
from portal.extensions import db


def _child_env(app) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = app.config["DATABASE_URL"]
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    return env


def _start_worker(app, log_dir: Path) -> subprocess.Popen:
    log_file = open(log_dir / "worker.log", "ab")  # the child owns it from here on
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal.celery_app", "worker", "--beat",
         "--concurrency=2", "--loglevel=INFO",
         f"--schedule={log_dir / 'celerybeat-schedule'}"],
        env=_child_env(app), stdout=log_file, stderr=subprocess.STDOUT)


@click.command("dev")
@click.option("--worker/--no-worker", default=True, help="Start a Celery worker alongside.")
def dev_command(worker: bool) -> None:
    """Migrate, seed demo data, start a worker, and serve the portal."""
    app = current_app._get_current_object()
    migrate.upgrade(app.config["DATABASE_URL"])
    with db.session_scope() as session:
        rows = seed_demo(session=session, argon2_params=app.config["ARGON2_PARAMS"])
    log_dir = Path(app.config["INSTANCE_DIR"])
    children = [_start_worker(app, log_dir)] if worker else []
    host, port = app.config["PORTAL_HOST"], app.config["PORTAL_PORT"]
    click.echo(credentials_table(rows))
    click.echo(f"\nPortal: http://{host}:{port}/   (worker log: {log_dir / 'worker.log'})")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=20)
