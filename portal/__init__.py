"""Meridian platform portal. `flask --app portal ...` finds `create_app` here."""
from portal.app import create_app

__all__ = ["create_app"]
