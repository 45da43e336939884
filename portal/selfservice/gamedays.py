"""Game days: chaos experiments in staging, requested by developers, approved by a manager
with a comment, committed to the GitOps repo for the window and removed at its end.

Every value a user gives is validated by declared parameters (strict patterns, ASCII
digits, bounded numbers) before it is rendered into a manifest; git runs with argument
lists, never through a shell.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.selfservice import engines, review
from portal.selfservice import gameday_manifests as manifests
from portal.selfservice.models import GAMEDAY_OUTCOMES, GameDay
from portal.selfservice.parameters import Param, ParamError, clean_all, refuse_expressions
from portal.selfservice.service import InvalidParameters, Refused
from provisioning import argocd as gitops
from provisioning.errors import RunFailed

ENVIRONMENT = "staging"
MAX_AHEAD = timedelta(days=30)
GRACE = timedelta(minutes=5)  # a window "now" typed a minute ago is still accepted
MAX_NOTES = 2000
WINDOW = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})")
DIGITS = r"[0-9]"  # ASCII only: other scripts' digits are refused, not converted


def _services(session: Session) -> list[tuple[str, str]]:
    return [(s.slug, s.name) for s in catalog.list_services(session=session, kind="service")]


def dependency_groups(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each service with the catalog entries it depends on: (service name, [(slug, name)])."""
    services = catalog.list_services(session=session, kind="service")
    deps = {d.id: sorted(((x.depends_on.slug, x.depends_on.name) for x in d.dependencies),
                         key=lambda pair: pair[1]) for d in services}
    return [(s.name, deps[s.id]) for s in services if deps[s.id]]


def _dependencies(session: Session) -> list[tuple[str, str]]:
    # Any dependency of any service passes here; that it is one of the chosen service's
    # is checked once the service is known.
    slugs = {slug: name for _, pairs in dependency_groups(session) for slug, name in pairs}
    return [("", "None (pod kill)")] + sorted(slugs.items())


def _number(name: str, label: str, low: int, high: int, default: int | None = None) -> Param:
    return Param(name, label, kind="int", minimum=low, maximum=high, default=default,
                 charset=DIGITS, pattern_hint="Use digits 0-9 only.",
                 help=f"Between {low} and {high}.")


PARAMS = (
    Param("service", "Service", kind="choice", choices=_services),
    Param("environment", "Environment", kind="choice",
          choices=lambda s: [("staging", "staging"), ("prod", "prod (refused)")],
          default=ENVIRONMENT),
    Param("experiment", "Experiment", kind="choice",
          choices=lambda s: [("pod-kill", "Pod kill"),
                             ("network-delay", "Network delay to a dependency")]),
    Param("mode", "Pods affected", kind="choice",
          choices=lambda s: [("one", "one pod"), ("all", "all pods")], default="one"),
    Param("target", "Dependency (network delay)", kind="choice", choices=_dependencies,
          default=""),
    _number("latency_ms", "Latency (ms)", 1, 2000, default=100),
    _number("jitter_ms", "Jitter (ms)", 0, 500, default=0),
    _number("duration_minutes", "Duration (minutes)", 5, 240),
    Param("window_start", "Window start (UTC)", pattern=WINDOW.pattern, charset=r"[0-9T:-]",
          pattern_hint="Use YYYY-MM-DDTHH:MM, for example 2026-12-08T14:00."),
)


def request(*, session: Session, raw: dict, requester: User,
            now: datetime | None = None) -> GameDay:
    """Validate a game day request and keep it waiting for a manager's approval."""
    now = now or utcnow()
    values, errors = clean_all(PARAMS, raw, session=session)
    if errors:
        raise InvalidParameters(errors)
    start = _window_start(values["window_start"], now=now, errors=errors)
    if errors:
        raise InvalidParameters(errors)
    if values["environment"] != ENVIRONMENT:
        raise Refused("Game days run in staging only: chaos experiments in prod are refused.")
    service = catalog.get_service(session=session, slug=values["service"])
    target = _target(values, service=service, errors=errors)
    if errors:
        raise InvalidParameters(errors)
    # Both come from parameters checked above (a catalog choice, a date that parsed).
    assert service is not None and start is not None
    name = f"{service.slug[:40]}-{values['experiment']}-{secrets.token_hex(3)}"
    manifest = _render(name=name, service=service.slug, target=target, values=values)
    gameday = GameDay(
        name=name, service=service, target=target, experiment=values["experiment"],
        mode=values["mode"], duration_minutes=values["duration_minutes"],
        latency_ms=values["latency_ms"] if target else None,
        jitter_ms=values["jitter_ms"] if target else None, window_start=start,
        window_end=start + timedelta(minutes=values["duration_minutes"]),
        status="requested", manifest_path=manifests.manifest_path(ENVIRONMENT, name),
        manifest=manifests.dump(manifest), requested_by=requester)
    session.add(gameday)
    session.flush()
    return gameday


def _window_start(text: str, *, now: datetime, errors: dict) -> datetime | None:
    try:
        # The parameter's own pattern is WINDOW, so the text always matches it.
        match = WINDOW.fullmatch(text)
        assert match is not None
        year, month, day, hour, minute = map(int, match.groups())
        start = datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        errors["window_start"] = "Window start is not a real date and time."
        return None
    if start < now - GRACE or start > now + MAX_AHEAD:
        errors["window_start"] = "Window start must be between now and 30 days ahead."
    return start


def _target(values: dict, *, service, errors: dict):
    if values["experiment"] == "pod-kill":
        return None
    deps = {d.depends_on.slug: d.depends_on for d in service.dependencies}
    if values["target"] not in deps:
        errors["target"] = (f"Choose one of {service.slug}'s dependencies: "
                            f"{', '.join(sorted(deps)) or 'it has none in the catalog'}.")
        return None
    if values["jitter_ms"] > values["latency_ms"]:
        errors["jitter_ms"] = "Jitter cannot be larger than the latency."
    return deps[values["target"]]


def _render(*, name: str, service: str, target, values: dict) -> dict:
    common = {"name": name, "environment": ENVIRONMENT, "service": service,
              "mode": values["mode"], "duration_minutes": values["duration_minutes"]}
    if target is None:
        return manifests.pod_kill(**common)
    return manifests.network_delay(**common, target=target.slug,
                                   latency_ms=values["latency_ms"],
                                   jitter_ms=values["jitter_ms"])


def decide(*, session: Session, gameday: GameDay, user: User, decision: str | None,
           comment: str | None, now: datetime | None = None) -> GameDay:
    """A manager (never the requester) approves or rejects, always with a comment; an
    approved game day whose window has started is committed at once."""
    if decision not in ("approve", "reject"):
        raise review.InvalidDecision("Decide approve or reject.")
    text = review.clean_comment(comment)
    if gameday.status != "requested":
        raise Refused("This game day is not waiting for an approval.")
    if user.id == gameday.requested_by_id:
        raise Refused("You requested this game day; a second person must approve it.")
    if not user.has_role("manager"):
        raise Refused("Only managers approve game days.")
    now = now or utcnow()
    gameday.decision_comment, gameday.approved_at = text, now
    if decision == "reject":
        gameday.status = "rejected"
        session.flush()
        return gameday
    gameday.approved_by, gameday.status = user, "scheduled"
    session.flush()
    if gameday.window_start <= now:
        start(session=session, gameday=gameday, now=now)
    return gameday


def _repo() -> gitops.GitOpsRepo:
    return engines.gitops_repo(lambda line: None)


def _author(user: User) -> gitops.Author:
    return gitops.Author(user.name, user.email)


def start(*, session: Session, gameday: GameDay, now: datetime | None = None) -> GameDay:
    """Commit the approved experiment's manifest to the GitOps repo (Argo CD applies it)."""
    if gameday.status != "scheduled":
        raise Refused("Only an approved game day that has not started is committed.")
    assert gameday.approved_by is not None  # a scheduled game day was approved
    message = (f"game day {gameday.name}: {gameday.experiment} on {gameday.service.slug} "
               f"in {ENVIRONMENT}\n\nApproved by {gameday.approved_by.email}")
    try:
        sha = _repo().commit_file(gameday.manifest_path, gameday.manifest,
                                  author=_author(gameday.requested_by), message=message)
    except RunFailed as exc:
        raise Refused(f"The GitOps commit failed: {exc}") from exc
    gameday.commit_sha, gameday.committed_at, gameday.status = sha, now or utcnow(), "running"
    session.flush()
    _on_timeline(session=session, gameday=gameday, step=f"committed {sha[:12]}",
                 actor_email=gameday.approved_by.email)
    return gameday


def _on_timeline(*, session: Session, gameday: GameDay, step: str,
                 actor_email: str | None) -> None:
    # On the service's timeline, so an incident during the window lists the experiment.
    path = current_app.url_map.bind("").build("selfservice.gameday_list")
    what = "pod kill" if gameday.target is None else f"network delay to {gameday.target.slug}"
    catalog.record_event(session=session, service=gameday.service, kind="gameday",
                         summary=f"Game day in {ENVIRONMENT} ({what}): {step}",
                         actor_email=actor_email, url=f"{path}#gameday-{gameday.id}",
                         details={"gameday": gameday.name, "step": step})


def end(*, session: Session, gameday: GameDay, user: User | None,
        now: datetime | None = None) -> GameDay:
    """Remove the experiment's manifest in a new commit (at window end, or ended early)."""
    if gameday.status != "running":
        raise Refused("Only a running game day can be ended.")
    if user is not None and user.id != gameday.requested_by_id and not user.has_role("manager"):
        raise Refused("Only the requester or a manager ends a game day.")
    who = user.email if user is not None else "the end of its window"
    try:
        sha = _repo().remove_file(gameday.manifest_path, author=_author(user or gameday.requested_by),
                                  message=f"end game day {gameday.name} ({who})")
    except RunFailed as exc:
        raise Refused(f"The GitOps removal commit failed: {exc}") from exc
    gameday.removal_sha, gameday.ended_at, gameday.status = sha, now or utcnow(), "ended"
    gameday.ended_by = user
    session.flush()
    _on_timeline(session=session, gameday=gameday, step=f"removed {sha[:12]}",
                 actor_email=user.email if user is not None else None)
    return gameday


def advance(*, session: Session, now: datetime | None = None) -> list[str]:
    """Commit game days whose window started and remove those whose window ended."""
    now = now or utcnow()
    done = []
    due: list[tuple[GameDay, Callable[..., GameDay]]]
    due = [(g, start) for g in session.scalars(select(GameDay).where(
        GameDay.status == "scheduled", GameDay.window_start <= now)).unique().all()]
    due += [(g, end) for g in session.scalars(select(GameDay).where(
        GameDay.status == "running", GameDay.window_end <= now)).unique().all()]
    for gameday, step in due:
        try:
            if step is start:
                start(session=session, gameday=gameday, now=now)
            else:
                end(session=session, gameday=gameday, user=None, now=now)
        except Refused as exc:  # one broken commit must not hold back the others
            done.append(f"{gameday.name}: {exc}")
            continue
        done.append(f"{gameday.status} {gameday.name}")
    return done


def record_outcome(*, session: Session, gameday: GameDay, user: User, outcome: str | None,
                   notes: str | None, now: datetime | None = None) -> GameDay:
    """The requester records whether the service held or degraded, with notes."""
    if user.id != gameday.requested_by_id and not user.has_role("admin"):
        raise Refused("Only the person who requested the game day records its outcome.")
    if gameday.status not in ("running", "ended"):
        raise Refused("An outcome is recorded once the experiment has been committed.")
    if outcome not in GAMEDAY_OUTCOMES:
        raise ParamError("Choose held or degraded.")
    text = (notes or "").strip()
    if len(text) > MAX_NOTES:
        raise ParamError(f"Keep the notes to {MAX_NOTES} characters.")
    if text:
        refuse_expressions(text.replace("\r\n", " ").replace("\n", " "))
    gameday.outcome, gameday.outcome_notes, gameday.outcome_at = outcome, text, now or utcnow()
    session.flush()
    return gameday


def get(*, session: Session, gameday_id: int) -> GameDay | None:
    """A game day by id."""
    return session.get(GameDay, gameday_id)


def grouped(*, session: Session, now: datetime | None = None, limit: int = 50) -> dict:
    """Game days as the page lists them: upcoming, running and past."""
    now = now or utcnow()
    rows = session.scalars(select(GameDay).order_by(GameDay.window_start.desc())
                           .limit(limit * 3)).unique().all()
    groups: dict[str, list[GameDay]] = {"upcoming": [], "running": [], "past": []}
    for row in rows:
        if row.status in ("ended", "rejected"):
            groups["past"].append(row)
        elif row.status == "running":
            groups["running"].append(row)
        else:
            groups["upcoming"].append(row)
    groups["upcoming"].reverse()
    return {key: value[:limit] for key, value in groups.items()}


def timeline(gameday: GameDay) -> list[tuple[datetime | None, str, str]]:
    """What happened to the experiment, in order: (when, step, detail)."""
    steps: list[tuple[datetime | None, str, str]] = [
        (gameday.created_at, "requested", f"by {gameday.requested_by.email}")]
    if gameday.status == "rejected":
        steps.append((gameday.approved_at, "rejected", gameday.decision_comment or ""))
    elif gameday.approved_by is not None:
        steps.append((gameday.approved_at, "approved",
                      f"by {gameday.approved_by.email}: {gameday.decision_comment}"))
    if gameday.commit_sha:
        steps.append((gameday.committed_at, "committed", gameday.commit_sha))
    steps.append((gameday.window_start, "window start", ""))
    steps.append((gameday.window_end, "window end", ""))
    if gameday.removal_sha:
        by = gameday.ended_by.email if gameday.ended_by else "window end"
        steps.append((gameday.ended_at, "removed", f"{gameday.removal_sha} ({by})"))
    if gameday.outcome:
        steps.append((gameday.outcome_at, f"outcome: {gameday.outcome}",
                      gameday.outcome_notes or ""))
    return sorted(steps, key=lambda s: s[0] or gameday.created_at)
