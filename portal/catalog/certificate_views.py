"""The certificates page: cert-manager Certificates with issuer, hosts and days left."""
import re
from datetime import UTC, datetime

from flask import abort, render_template, request

from portal.auth.access import require_roles
from portal.catalog import certificates
from portal.catalog.blueprint import STAFF, bp

# A Kubernetes namespace is a DNS label.
NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@bp.get("/certificates")
@require_roles(*STAFF)
def certificate_index():
    """Every certificate (optionally of one namespace), soonest expiry first."""
    namespace = request.args.get("namespace") or None
    if namespace is not None and not NAMESPACE.fullmatch(namespace):
        abort(400, description="A namespace is a lowercase DNS label (a-z, 0-9, '-').")
    found = certificates.current()
    shown = found.in_namespace(namespace) if namespace else found.certificates
    now = datetime.now(UTC)
    shown = sorted(shown, key=lambda c: (c.expires_at is None, c.expires_at or now, c.name))
    return render_template("catalog/certificates.html", inventory=found, certificates=shown,
                           namespace=namespace, now=now,
                           namespaces=sorted({c.namespace for c in found.certificates}),
                           expiring_days=certificates.EXPIRING_DAYS)
