"""The disaster-recovery page: every failure scenario with its RPO and RTO, and the panel of
a service page listing the scenarios that take that service down."""
from flask import render_template

from portal.auth.access import require_roles
from portal.catalog import dr
from portal.catalog.blueprint import STAFF, bp
from portal.catalog.models import Service
from portal.extensions import db


@bp.get("/dr")
@require_roles(*STAFF)
def dr_index():
    """The DR table: scenario, affected entries, detection, RPO, RTO, runbook."""
    return render_template("catalog/dr.html", table=dr.table(session=db.session))


@bp.app_template_global()
def dr_scenarios(service: Service) -> list[dr.Scenario]:
    """The scenarios affecting a service, for templates/catalog/_dr_scenarios.html."""
    return dr.for_service(service.slug)
