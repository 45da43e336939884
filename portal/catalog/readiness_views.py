"""Production-readiness pages: every score, one service's scorecard and trend, the guide."""
import plotly.graph_objects as go
from flask import abort, flash, redirect, render_template, url_for

from portal.auth.access import audit_action, require_roles
from portal.catalog import readiness
from portal.catalog import service as catalog
from portal.catalog.blueprint import STAFF, bp, plot
from portal.extensions import db


@bp.get("/scorecards")
@require_roles(*STAFF)
def scorecards():
    """The score of every catalog entry, worst first."""
    rules = readiness.alert_rules()
    cards = [readiness.evaluate(session=db.session, service=s, rules=rules)
             for s in catalog.list_services(session=db.session)]
    cards.sort(key=lambda c: (c.score, c.service.name))
    return render_template("catalog/scorecards.html", cards=cards)


def _trend_figure(points) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[p.taken_at for p in points], y=[p.score for p in points],
                               mode="lines+markers", name="score"))
    fig.update_layout(height=240, margin={"l": 40, "r": 10, "t": 10, "b": 30},
                      yaxis={"range": [0, 105], "title": "score"})
    return fig


@bp.get("/services/<slug>/scorecard")
@require_roles(*STAFF)
def scorecard(slug: str):
    """A service's checks with explanations, links to fixes, and its score trend."""
    service = catalog.get_service(session=db.session, slug=slug) or abort(404)
    points = readiness.trend(session=db.session, service=service)
    return render_template("catalog/scorecard.html", service=service,
                           card=catalog.scorecard(session=db.session, service=service),
                           trend=points, trend_html=plot(_trend_figure(points), "score-trend"))


@bp.post("/services/<slug>/scorecard")
@require_roles(*STAFF)
def record_score(slug: str):
    """Evaluate the checks now and store the score in the trend."""
    service = catalog.get_service(session=db.session, slug=slug) or abort(404)
    row = readiness.snapshot(session=db.session,
                             card=catalog.scorecard(session=db.session, service=service))
    audit_action("catalog.score_snapshot", target_type="service", target_id=service.id,
                 details={"score": row.score, "failing": row.failing})
    flash(f"Score recorded: {row.score}.", "success")
    return redirect(url_for("catalog.scorecard", slug=slug), 303)


@bp.get("/readiness-guide")
@require_roles(*STAFF)
def readiness_guide():
    """How each readiness check is evaluated and how to fix it when it fails."""
    return render_template("catalog/readiness_guide.html",
                           checks=[check for check, _ in readiness.CHECKS])
