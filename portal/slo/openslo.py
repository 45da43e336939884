"""OpenSLO v1 import and export (https://github.com/OpenSLO/OpenSLO): kinds SLO, SLI,
Service, DataSource, AlertPolicy, AlertCondition and AlertNotificationTarget in one
multi-document file, inline or referenced; rolling and calendar-aligned windows; the
Occurrences, Timeslices and RatioTimeslices budgeting methods. What the portal cannot
measure is refused with the path of the field concerned (see openslo_indicator)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.slo import openslo_indicator, openslo_read, openslo_windows, specs
from portal.slo.models import Slo
from portal.slo.openslo_problems import MAX_DESCRIPTION
from portal.untrusted_yaml import UntrustedYamlError, load_all

ANNOTATION = openslo_read.ANNOTATION
# Where specs.clean's field messages belong in an OpenSLO document.
FIELD_PATHS = {"name": "metadata.name", "objective": "spec.objectives[0]",
               "window_days": "spec.timeWindow[0].duration", "description": "spec.description",
               "good_query": "spec.indicator", "total_query": "spec.indicator",
               "latency_threshold_ms": "spec.indicator", "sli_kind": "spec.indicator"}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _source(query: str) -> dict:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _indicator(slo: Slo) -> tuple[dict, dict]:
    """(indicator spec, objective fields for op/value) of an SLO."""
    threshold = (openslo_indicator.as_threshold(slo.good_query, slo.total_query)
                 if slo.sli_kind == "latency" else None)
    if threshold is not None:
        query, bound = threshold
        return {"thresholdMetric": _source(query)}, {"op": "lte", "value": _number(bound)}
    bad = (openslo_indicator.as_bad(slo.good_query, slo.total_query)
           if slo.ratio_numerator == "bad" else None)
    numerator = {"bad": _source(bad)} if bad else {"good": _source(slo.good_query)}
    return {"ratioMetric": {"counter": True, **numerator,
                            "total": _source(slo.total_query)}}, {}


def _window(slo: Slo) -> dict:
    if slo.is_calendar:
        # A calendar SLO is saved with its start, zone and duration.
        assert slo.calendar_start and slo.calendar_time_zone and slo.window_duration
        return {"duration": slo.window_duration,
                "calendar": {"startTime": slo.calendar_start.strftime("%Y-%m-%d %H:%M:%S"),
                             "timeZone": slo.calendar_time_zone}, "isRolling": False}
    duration = slo.window_duration
    # The form edits window_days only: the shorthand as imported is kept while it agrees.
    try:
        if duration is None or openslo_windows.rolling_days(duration) != slo.window_days:
            duration = f"{slo.window_days}d"
    except ValueError:
        duration = f"{slo.window_days}d"
    return {"duration": duration, "isRolling": True}


def _objective(slo: Slo, threshold: dict) -> dict:
    kept = (slo.openslo_metadata or {}).get("objective", {})
    objective = {**({"displayName": kept["displayName"]} if kept.get("displayName") else {}),
                 **threshold, "target": float(Decimal(slo.objective) / 100)}
    if slo.budgeting_method != "Occurrences" and slo.time_slice_window:
        if slo.time_slice_target is not None:
            objective["timeSliceTarget"] = float(slo.time_slice_target)
        window = slo.time_slice_window
        # A bare number is minutes in the spec: give it back as the number it was.
        objective["timeSliceWindow"] = int(window) if window.isdigit() else window
    return objective


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def to_document(slo: Slo) -> dict:
    """One SLO as an OpenSLO v1 document within the spec's limits (name <= 63 characters,
    descriptions <= 1050)."""
    kept = slo.openslo_metadata or {}
    annotations = {**kept.get("annotations", {})}
    if slo.owner:
        annotations[f"{ANNOTATION}owner"] = slo.owner
    indicator, threshold = _indicator(slo)
    if slo.sli_kind == "latency" and "ratioMetric" in indicator:
        annotations[f"{ANNOTATION}sli-kind"] = "latency"
        annotations[f"{ANNOTATION}latency-threshold-ms"] = str(slo.latency_threshold_ms)
    metadata: dict[str, Any] = {"name": slo.name}
    if slo.display_name:
        metadata["displayName"] = slo.display_name
    if kept.get("labels"):
        metadata["labels"] = kept["labels"]
    if annotations:
        metadata["annotations"] = annotations
    sli_kept = kept.get("indicator", {})
    sli_meta = {"name": sli_kept.get("name") or openslo_read.indicator_name(slo.name),
                **({"displayName": sli_kept["displayName"]}
                   if sli_kept.get("displayName") else {})}
    if sli_kept.get("description"):
        indicator = {"description": _shorten(sli_kept["description"], MAX_DESCRIPTION),
                     **indicator}
    spec = {"service": slo.service.slug,
            "indicator": {"metadata": sli_meta, "spec": indicator},
            "timeWindow": [_window(slo)], "budgetingMethod": slo.budgeting_method,
            "objectives": [_objective(slo, threshold)]}
    if slo.description:
        spec = {"description": _shorten(slo.description, MAX_DESCRIPTION), **spec}
    if slo.alert_policies:
        spec["alertPolicies"] = slo.alert_policies
    return {"apiVersion": "openslo/v1", "kind": "SLO", "metadata": metadata, "spec": spec}


def export(slos: list[Slo]) -> str:
    """SLOs as a multi-document OpenSLO YAML stream."""
    return yaml.safe_dump_all([to_document(s) for s in slos], sort_keys=False,
                              allow_unicode=True)


def _store(session: Session, plan: openslo_read.Plan) -> Slo:
    service = catalog.get_service(session=session, slug=plan.service)
    if service is None:
        raise specs.SpecInvalid({f"{plan.where} spec.service":
                                 f"no service {plan.service!r} in the catalog"})
    try:
        slo = specs.upsert(session=session, service=service, spec=specs.clean(plan.raw))
    except specs.SpecInvalid as exc:
        raise specs.SpecInvalid({f"{plan.where} {FIELD_PATHS.get(field, field)}": message
                                 for field, message in exc.errors.items()}) from exc
    for column, value in plan.extras.items():
        setattr(slo, column, value)
    session.flush()
    return slo


def import_documents(*, session: Session, text: str) -> list[Slo]:
    """Create or update the SLOs of an OpenSLO YAML stream; nothing is kept on any error.

    Raises SpecInvalid whose errors map 'document N (Kind name) field.path' to a message.
    """
    try:
        docs = load_all(text)
    except UntrustedYamlError as exc:
        raise specs.SpecInvalid({"document": str(exc)}) from exc
    except ValueError as exc:
        # PyYAML's constructors raise plain ValueError for scalars they cannot convert
        # (an integer of more than 4300 digits, a timestamp on the 45th of a month).
        raise specs.SpecInvalid({"document": f"A value cannot be read: {str(exc)[:120]}"}) \
            from exc
    plans, problems = openslo_read.read(docs)
    if problems:
        raise specs.SpecInvalid(problems)
    with session.begin_nested():
        return [_store(session, plan) for plan in plans]
