"""An OpenSLO v1 file as SLO plans: every document checked, references resolved within the
file, each SLO turned into the portal's spec fields plus what it keeps for export."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal.slo import openslo_alerts, openslo_indicator, openslo_windows
from portal.slo.models import BUDGETING_METHODS
from portal.slo.openslo_problems import (
    API_VERSION,
    KINDS,
    Problems,
    Reader,
    Stop,
    label,
)

ANNOTATION = "portal.meridian.example/"
SLO_FIELDS = ("description", "service", "indicator", "indicatorRef", "timeWindow",
              "budgetingMethod", "objectives", "alertPolicies")
OBJECTIVE_FIELDS = ("displayName", "op", "value", "target", "targetPercent",
                    "timeSliceTarget", "timeSliceWindow")
START_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
MAX_DOCUMENTS = 500


def indicator_name(slo_name: str) -> str:
    """The name an exported inline indicator gets unless the import gave it another."""
    return f"{slo_name[:59].rstrip('-')}-sli"


@dataclass
class Plan:
    """One SLO to create or update: service slug, spec fields and the OpenSLO extras."""
    where: str
    service: str
    raw: dict
    extras: dict


def _index(docs: list, problems: Problems) -> tuple[dict, list[tuple[Reader, dict]]]:
    """Well-formed documents: those others may refer to by (kind, name), and the SLOs
    (unique per service, not per file: nothing refers to an SLO); header problems recorded."""
    objects: dict[tuple[str, str], tuple[Reader, dict]] = {}
    slos: list[tuple[Reader, dict]] = []
    for number, doc in enumerate(docs, start=1):
        reader = Reader(problems, label(number, doc))
        try:
            doc = reader.mapping(doc, "")
            reader.known(doc, "", ("apiVersion", "kind", "metadata", "spec"))
            if doc.get("apiVersion") != API_VERSION:
                raise problems.stop(reader.where, "apiVersion", f"must be {API_VERSION}")
            kind = doc.get("kind")
            if kind not in KINDS:
                raise problems.stop(reader.where, "kind", f"one of {', '.join(KINDS)}")
            meta = reader.mapping(doc.get("metadata"), "metadata")
            reader.known(meta, "metadata", ("name", "displayName", "labels", "annotations"))
            name = reader.name(meta.get("name"), "metadata.name", strict=kind == "SLO")
            reader.text(meta.get("displayName"), "metadata.displayName")
            spec = reader.mapping(doc.get("spec"), "spec")
            reader.description(spec.get("description"), "spec.description")
            if kind == "SLO":
                slos.append((reader, doc))
                continue
            if (kind, name) in objects:
                raise problems.stop(reader.where, "metadata.name",
                                    f"another {kind} in this file has the same name")
            objects[(kind, name)] = (reader, doc)
        except Stop:
            continue
    return objects, slos


def _window(reader: Reader, value: object) -> dict:
    """window_days and the window as written (rolling or calendar-aligned)."""
    if value is None:
        return {"window_days": 30}
    if not isinstance(value, list) or len(value) != 1:
        raise reader.problems.stop(reader.where, "spec.timeWindow",
                                   "exactly one time window (a list with one item)")
    window = reader.mapping(value[0], "spec.timeWindow[0]")
    reader.known(window, "spec.timeWindow[0]", ("duration", "isRolling", "calendar"))
    duration: Any = window.get("duration")  # checked by the window functions below
    at = "spec.timeWindow[0]"
    rolling = reader.boolean(window.get("isRolling"), f"{at}.isRolling")
    if rolling is None:
        rolling = "calendar" not in window
    try:
        if rolling:
            if "calendar" in window:
                raise reader.problems.stop(reader.where, f"{at}.calendar",
                                           "a rolling window has no calendar")
            return {"window_days": openslo_windows.rolling_days(duration),
                    "window_duration": duration}
        days = openslo_windows.nominal_days(duration)
    except ValueError as exc:
        raise reader.problems.stop(reader.where, f"{at}.duration", str(exc)) from exc
    calendar = reader.mapping(window.get("calendar"), f"{at}.calendar")
    reader.known(calendar, f"{at}.calendar", ("startTime", "timeZone"))
    try:
        openslo_windows.zone(calendar.get("timeZone"))
    except ValueError as exc:
        raise reader.problems.stop(reader.where, f"{at}.calendar.timeZone", str(exc)) from exc
    return {"window_days": days, "window_duration": duration,
            "calendar_start": _start(reader, calendar.get("startTime"), f"{at}.calendar"),
            "calendar_time_zone": calendar["timeZone"]}


def _start(reader: Reader, value: object, at: str) -> datetime:
    """startTime as local wall time: YAML may already have read it as a timestamp."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    for fmt in START_FORMATS if isinstance(value, str) else ():
        try:
            return datetime.strptime(str(value)[:40], fmt)  # (a str, see the loop)
        except ValueError:
            continue
    raise reader.problems.stop(reader.where, f"{at}.startTime",
                               "a date and time without time zone, e.g. 2020-01-21 12:30:00")


def _target(reader: Reader, objective: dict, at: str) -> Decimal:
    """The objective as a percentage, from target or targetPercent."""
    if ("target" in objective) == ("targetPercent" in objective):
        raise reader.problems.stop(reader.where, f"{at}.target",
                                   "give exactly one of target and targetPercent")
    if "target" in objective:
        value = reader.number(objective["target"], f"{at}.target")
        if not 0 < value < 1:
            raise reader.problems.stop(reader.where, f"{at}.target",
                                       "a share strictly between 0 and 1, e.g. 0.9995")
        return value * 100
    value = reader.number(objective["targetPercent"], f"{at}.targetPercent")
    if not 0 < value < 100:
        raise reader.problems.stop(reader.where, f"{at}.targetPercent",
                                   "a percentage strictly between 0 and 100, e.g. 99.95")
    return value


def _budgeting(reader: Reader, method: object, objective: dict, at: str) -> dict:
    if method not in BUDGETING_METHODS:
        raise reader.problems.stop(reader.where, "spec.budgetingMethod",
                                   f"required: one of {', '.join(BUDGETING_METHODS)}")
    out: dict[str, Any] = {"budgeting_method": method, "time_slice_target": None,
                           "time_slice_window": None}
    if method == "Occurrences":
        for field in ("timeSliceTarget", "timeSliceWindow"):
            if field in objective:
                reader.problems.add(reader.where, f"{at}.{field}",
                                    "time slices need budgetingMethod Timeslices or "
                                    "RatioTimeslices")
        return out
    try:
        openslo_windows.slice_minutes(objective.get("timeSliceWindow"))
    except ValueError as exc:
        raise reader.problems.stop(reader.where, f"{at}.timeSliceWindow", str(exc)) from exc
    out["time_slice_window"] = str(objective["timeSliceWindow"])
    if method == "Timeslices" or "timeSliceTarget" in objective:
        target = reader.number(objective.get("timeSliceTarget"), f"{at}.timeSliceTarget")
        if not 0 < target <= 1 or target != target.quantize(Decimal("1e-8")):
            raise reader.problems.stop(reader.where, f"{at}.timeSliceTarget",
                                       "a share above 0 and at most 1, e.g. 0.95")
        out["time_slice_target"] = target
    return out


def _metadata(reader: Reader, meta: dict) -> dict:
    """Labels and annotations not the portal's own, checked against the spec's types."""
    kept = {}
    labels = reader.mapping(meta.get("labels"), "metadata.labels", required=False)
    for key, value in labels.items():
        if not (isinstance(value, str) or (isinstance(value, list)
                                           and all(isinstance(v, str) for v in value))):
            reader.problems.add(reader.where, f"metadata.labels.{key[:63]}",
                                "a label's value is a string or a list of strings")
    if labels:
        kept["labels"] = labels
    annotations = reader.mapping(meta.get("annotations"), "metadata.annotations",
                                 required=False)
    for key, value in annotations.items():
        if not isinstance(value, str):
            reader.problems.add(reader.where, f"metadata.annotations.{key[:80]}",
                                "an annotation's value is a string")
    foreign = {k: v for k, v in annotations.items() if not k.startswith(ANNOTATION)}
    if foreign:
        kept["annotations"] = foreign
    return kept


def _plan(reader: Reader, doc: dict, objects: dict, sources: dict) -> Plan:
    meta, spec = doc["metadata"], doc["spec"]
    reader.known(spec, "spec", SLO_FIELDS)
    annotations = found if isinstance(found := meta.get("annotations"), dict) else {}
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        raise reader.problems.stop(reader.where, "spec.objectives", "required: a list of "
                                   "objectives")
    if len(objectives) > 1:
        reader.problems.add(reader.where, "spec.objectives[1]",
                            "the portal keeps one objective per SLO: put each further "
                            "objective in an SLO of its own")
    objective = reader.mapping(objectives[0], "spec.objectives[0]")
    reader.known(objective, "spec.objectives[0]", OBJECTIVE_FIELDS)
    failed = False

    def attempt(read_part, *args):
        # Each part is read even after another failed, so one import lists every problem.
        nonlocal failed
        try:
            return read_part(*args)
        except Stop:
            failed = True
            return {}

    kept = attempt(_metadata, reader, meta)
    if objective.get("displayName") is not None:
        kept["objective"] = {"displayName": attempt(
            reader.text, objective["displayName"], "spec.objectives[0].displayName")}
    fields = {"objective": attempt(_target, reader, objective, "spec.objectives[0]"),
              **attempt(_window, reader, spec.get("timeWindow"))}
    extras = {"display_name": meta.get("displayName") or "",
              **attempt(_budgeting, reader, spec.get("budgetingMethod"), objective,
                        "spec.objectives[0]")}
    extras.update({k: fields.pop(k, None) for k in ("window_duration", "calendar_start",
                                                   "calendar_time_zone")})
    indicator = attempt(_indicator, reader, spec, objects, sources, objective, kept)
    extras["alert_policies"] = attempt(openslo_alerts.alert_policies, reader,
                                       spec.get("alertPolicies"), "spec.alertPolicies", objects)
    service = attempt(lambda: reader.name(spec.get("service"), "spec.service", strict=True))
    if failed:
        raise Stop()
    extras["ratio_numerator"] = indicator.pop("ratio_numerator")
    if kept.get("indicator") == {"name": indicator_name(meta["name"])}:
        del kept["indicator"]      # what the export writes anyway
    extras["openslo_metadata"] = kept
    raw = {"name": meta["name"], "description": spec.get("description") or "",
           "owner": str(annotations.get(f"{ANNOTATION}owner") or ""), **fields, **indicator}
    return Plan(reader.where, service, raw, extras)


def _indicator(reader: Reader, spec: dict, objects: dict, sources: dict, objective: dict,
               kept: dict) -> dict:
    """Portal fields of the inline or referenced indicator (problems on its own paths)."""
    if ("indicator" in spec) == ("indicatorRef" in spec):
        raise reader.problems.stop(reader.where, "spec.indicator",
                                   "give exactly one of indicator and indicatorRef")
    if "indicatorRef" in spec:
        found = objects.get(("SLI", spec["indicatorRef"])) \
            if isinstance(spec["indicatorRef"], str) else None
        if found is None:
            raise reader.problems.stop(reader.where, "spec.indicatorRef",
                                       f"no SLI named {str(spec['indicatorRef'])[:80]!r} in "
                                       f"this file")
        sli_reader, sli = found
        sli_meta, sli_spec, at = sli["metadata"], sli["spec"], "spec"
    else:
        sli_reader = reader
        inline = reader.mapping(spec["indicator"], "spec.indicator")
        reader.known(inline, "spec.indicator", ("metadata", "spec"))
        sli_meta = reader.mapping(inline.get("metadata"), "spec.indicator.metadata")
        reader.name(sli_meta.get("name"), "spec.indicator.metadata.name", strict=False)
        sli_spec = reader.mapping(inline.get("spec"), "spec.indicator.spec")
        at = "spec.indicator.spec"
    kept["indicator"] = {k: sli_meta[k] for k in ("name", "displayName") if sli_meta.get(k)}
    if sli_spec.get("description"):
        kept["indicator"]["description"] = sli_spec["description"]
    # Problems of a referenced SLI are reported on the SLI's document, those of the
    # objective (op, value) on the SLO's, so each message names the document to fix.
    return openslo_indicator.indicator_fields(sli_reader, sli_spec, at, sources, objective,
                                              reader)


def read(docs: list) -> tuple[list[Plan], dict[str, str]]:
    """SLO plans of a file's documents, and every problem found (empty when none)."""
    problems = Problems()
    if len(docs) > MAX_DOCUMENTS:
        problems.add("document", "", f"at most {MAX_DOCUMENTS} documents per file")
        return [], problems.found
    objects, slos = _index(docs, problems)
    sources = {name: doc["spec"] for (kind, name), (_, doc) in objects.items()
               if kind == "DataSource"}
    for (kind, _), (reader, doc) in objects.items():
        try:
            if kind == "SLI":
                openslo_indicator.check_alone(reader, doc["spec"], sources)
            openslo_alerts.check_alone(reader, kind, doc, objects)
        except Stop:
            continue
    plans, seen = [], set()
    for reader, doc in slos:
        try:
            plan = _plan(reader, doc, objects, sources)
        except Stop:
            continue
        name = doc["metadata"]["name"]
        if (plan.service, name) in seen:
            problems.add(reader.where, "metadata.name",
                         f"another SLO of service {plan.service} has the same name")
        seen.add((plan.service, name))
        plans.append(plan)
    if not plans and not problems.found:
        problems.add("document", "", "no SLO document found (kind: SLO)")
    return plans, problems.found
