"""The status page's Blueprint and role sets."""
from flask import Blueprint

bp = Blueprint("statuspage", __name__, url_prefix="/status")
STAFF = ("developer", "oncall", "manager")
READERS = ("tenant_viewer", *STAFF)
