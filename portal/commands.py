"""Management commands: `portal db upgrade`, `portal seed-demo`, `portal create-user`, `portal dev`."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal import config as portal_config
from portal import migrate
from portal.auth import audit
from portal.auth import service as accounts
from portal.auth.models import ROLES
from portal.demo.seed import credentials_table, seed_demo
from portal.devserver import dev_command
from portal.extensions import db
from portal.tenants import service as tenants

db_cli = AppGroup("db", help="Schema migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Upgrade the database schema to REVISION (default: every head)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load Meridian's demo data (idempotent) and print the demo users' credentials."""
    with db.session_scope() as session:
        rows = seed_demo(session=session, argon2_params=current_app.config["ARGON2_PARAMS"])
    click.echo(credentials_table(rows))


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--tenant", default=None, help="Tenant slug (tenant viewers only).")
@click.option("--break-glass", is_flag=True,
              help="An emergency account that keeps its password while single sign-on is on.")
@click.password_option()
def create_user_command(email: str, name: str, roles: tuple[str, ...], tenant: str | None,
                        break_glass: bool, password: str) -> None:
    """Create a local account."""
    with db.session_scope() as session:
        tenant_row = tenants.get_by_slug(session=session, slug=tenant) if tenant else None
        if tenant and tenant_row is None:
            raise click.BadParameter(f"no tenant {tenant!r}", param_hint="--tenant")
        try:
            user = accounts.create(session=session, email=email, name=name, password=password,
                                   roles=list(roles),
                                   tenant_id=tenant_row.id if tenant_row else None)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        user.break_glass = break_glass
        audit.record(session=session, action="user.create", actor_email="cli",
                     target_type="user", target_id=user.id,
                     details={"roles": user.roles, "break_glass": break_glass})
    click.echo(f"created {email}")


@click.command("settings")
@click.option("--update-readme", is_flag=True, help="Rewrite the table in README.md.")
def settings_command(update_readme: bool) -> None:
    """Print every setting with its default, as the README's configuration table."""
    table = portal_config.settings_table()
    if not update_readme:
        click.echo(table)
        return
    readme = portal_config.PROJECT_ROOT / "README.md"
    start, end = "<!-- settings:start -->\n", "\n<!-- settings:end -->"
    text = readme.read_text()
    head, rest = text.split(start, 1)
    readme.write_text(head + start + table + end + rest.split(end, 1)[1])
    click.echo(f"updated {readme}")


def register(app: Flask) -> None:
    """Attach the commands to the app's CLI."""
    for command in (db_cli, seed_demo_command, create_user_command, dev_command):
        app.cli.add_command(command)
