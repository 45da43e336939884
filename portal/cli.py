"""The `portal` console script: Flask's CLI bound to the portal's app factory."""
from flask.cli import FlaskGroup

from portal.app import create_app


def main() -> None:
    FlaskGroup(create_app=lambda: create_app(), help="Meridian platform portal.")()
