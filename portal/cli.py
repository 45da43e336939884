"""The `portal` console script: Flask's CLI bound to the portal's app factory."""
from flask.cli import FlaskGroup

from portal.app import create_app
from portal.commands import settings_command


def make_cli() -> FlaskGroup:
    cli = FlaskGroup(create_app=lambda: create_app(), help="Meridian platform portal.")
    # On the group, not the app: listing settings must not start the embedded PostgreSQL.
    cli.add_command(settings_command)
    return cli


def main() -> None:
    make_cli()()
