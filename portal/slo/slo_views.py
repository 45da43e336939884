"""SLO pages: overview, detail with charts, CSV/OpenSLO/rules exports, spec editing,
OpenSLO import and the manager's deploy-freeze override."""
from __future__ import annotations

from datetime import datetime

from flask import Response, abort, render_template, request

from portal.auth.access import require_roles
from portal.db import utcnow
from portal.extensions import db
from portal.rendering import page_or_fragment
from portal.slo import (
    charts,
    openslo,
    present,
    rules,
    samples,
    spec_words,
    specs,
    status_cache,
)
from portal.slo import service as slo
from portal.slo.blueprint import READERS, bp
from portal.slo.forms import OverrideForm


def _overview_args() -> dict:
    state = request.args.get("state") or None
    if state is not None and state not in slo.POLICY_STATES:
        abort(400, description=f"Unknown state {state!r}; one of {', '.join(slo.POLICY_STATES)}.")
    sort = request.args.get("sort") or "state"
    if sort not in present.SORT_KEYS:
        abort(400, description=f"Cannot sort by {sort!r}.")
    direction = request.args.get("dir") or None
    if direction not in (None, "asc", "desc"):
        abort(400, description="The sort direction is asc or desc.")
    return {"team": request.args.get("team") or None,
            "service": request.args.get("service") or None, "state": state, "sort": sort,
            "descending": (sort in present.DEFAULT_DESCENDING if direction is None
                           else direction == "desc")}


def _statuses(current: status_cache.Current, args: dict, now: datetime
              ) -> list[slo.SloStatus]:
    found = status_cache.slos(current, team=args["team"], service=args["service"])
    return present.filter_and_sort(
        status_cache.evaluate(session=db.session, current=current, slos=found, now=now),
        state=args["state"], sort=args["sort"], descending=args["descending"])


@bp.get("/")
@require_roles(*READERS)
def index():
    """Every SLO with its budget, burn rates, alert and policy state; filterable, sortable."""
    args, current = _overview_args(), status_cache.current(session=db.session)
    return page_or_fragment("slo/index.html", "slo/_rows.html",
                            statuses=_statuses(current, args, utcnow()), args=args,
                            teams=current.snapshot.teams, services=current.snapshot.services,
                            present=present, words=spec_words)


@bp.get("/export.csv")
@require_roles(*READERS)
def export_csv():
    """The overview, with the same filters, as CSV."""
    now = samples.floor_minute(utcnow())
    current = status_cache.current(session=db.session)
    body = present.to_csv(_statuses(current, _overview_args(), now), now=now)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=slos-{utcnow():%Y%m%d-%H%M}.csv"})


@bp.get("/openslo.yaml")
@require_roles(*READERS)
def export_openslo():
    """Every SLO as OpenSLO v1 YAML."""
    return Response(openslo.export(specs.list_slos(session=db.session)),
                    mimetype="application/yaml")


@bp.get("/rules.yml")
@require_roles(*READERS)
def export_rules():
    """Prometheus recording and alerting rules generated from the SLOs in the portal."""
    found = [rules.from_slo(s) for s in specs.list_slos(session=db.session)]
    return Response(rules.dump(found), mimetype="application/yaml")


def _get_slo(slo_id: int):
    found = specs.get(session=db.session, slo_id=slo_id)
    if found is None:
        abort(404)
    return found


@bp.get("/<int:slo_id>")
@require_roles(*READERS)
def detail(slo_id: int):
    """One SLO: budget in words, burn rates, charts over the budget period (the exact
    calendar window or the rolling one) and their tables."""
    now = samples.floor_minute(utcnow())
    status = slo.evaluate(session=db.session, slos=[_get_slo(slo_id)], now=now)[0]
    period_start, _ = slo.budget_period(status.slo, now)
    end = samples.floor_hour(now) + samples.HOUR
    series, total = charts.budget_series(session=db.session, status=status, start=period_start,
                                         end=now)
    points = charts.hourly_points(status, series, period_start, end, total)
    service = status.slo.service
    return render_template(
        "slo/detail.html", status=status, present=present, words=spec_words,
        window=spec_words.window(status.slo, period_start=period_start, now=now),
        figures=charts.figures(status, points),
        days=charts.daily_rows(status, points), rules=slo.ALERT_RULES,
        freeze=slo.deploy_freeze(session=db.session, service_id=service.id),
        override=slo.active_override(session=db.session, service_id=service.id),
        override_form=OverrideForm())


@bp.app_template_global()
def slo_service_panel(service) -> dict:
    """Policy state, freeze and SLO statuses of one service (catalog page panel)."""
    current = status_cache.for_request(session=db.session) or status_cache.current(
        session=db.session)
    statuses = status_cache.evaluate(session=db.session, current=current,
                                     slos=status_cache.slos(current, service=service.slug))
    state = slo.worst_state([s.policy for s in statuses])
    override = status_cache.active_override(current, service_id=service.id)
    # The freeze follows from what was just evaluated, not from a second evaluation.
    return {"statuses": statuses, "state": state, "override": override, "present": present,
            "freeze": slo.freeze_reason(name=service.name, state=state, override=override)}


@bp.app_template_global()
def slo_override_form() -> OverrideForm:
    """An empty override form for the service panel."""
    return OverrideForm()


@bp.app_template_global()
def slo_home_panel() -> list[dict]:
    """Services at risk or exhausted, worst first (managers' home panel)."""
    by_service: dict[int, list[slo.SloStatus]] = {}
    current = status_cache.current(session=db.session)
    for st in status_cache.evaluate(session=db.session, current=current,
                                    slos=current.snapshot.slos):
        by_service.setdefault(st.slo.service_id, []).append(st)
    rows = [{"service": sts[0].slo.service, "state": slo.worst_state([s.policy for s in sts]),
             "slos": [s for s in sts if s.policy != "healthy"]} for sts in by_service.values()]
    rows = [r for r in rows if r["state"] != "healthy"]
    return sorted(rows, key=lambda r: (-slo.POLICY_STATES.index(r["state"]), r["service"].name))

