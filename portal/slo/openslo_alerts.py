"""OpenSLO alert policies of an SLO, inline or referenced (alertPolicyRef, conditionRef,
targetRef), resolved within the imported file into self-contained inline documents: what
the portal stores and exports again."""
from __future__ import annotations

from typing import Any

from portal.slo import openslo_windows
from portal.slo.openslo_problems import Reader, Stop

POLICY_FIELDS = ("description", "alertWhenNoData", "alertWhenResolved", "alertWhenBreaching",
                 "conditions", "notificationTargets")
CONDITION_FIELDS = ("description", "severity", "condition")
BURN_RATE_FIELDS = ("kind", "threshold", "lookbackWindow", "alertAfter")


def _metadata(reader: Reader, meta: object, path: str) -> dict:
    meta = reader.mapping(meta, path)
    reader.known(meta, path, ("name", "displayName", "labels", "annotations"))
    out = {"name": reader.name(meta.get("name"), f"{path}.name", strict=False)}
    if meta.get("displayName") is not None:
        out["displayName"] = reader.text(meta["displayName"], f"{path}.displayName")
    return out


def _resolve(reader: Reader, item: object, path: str, kind: str, ref_field: str,
             objects: dict[tuple[str, str], tuple[Reader, dict]]) -> tuple[Reader, dict, str]:
    """(reader, document, path) of an inline object or the document a ref names."""
    item = reader.mapping(item, path)
    if ref_field in item:
        ref = item[ref_field]
        found = objects.get((kind, ref)) if isinstance(ref, str) else None
        if found is None:
            raise reader.problems.stop(reader.where, f"{path}.{ref_field}",
                                       f"no {kind} named {str(ref)[:80]!r} in this file")
        return found[0], found[1], ""
    if item.get("kind") != kind:
        raise reader.problems.stop(reader.where, f"{path}.kind",
                                   f"an inline object needs kind: {kind} (or give {ref_field})")
    return reader, item, f"{path}."


def _condition(reader: Reader, doc: dict, path: str) -> dict:
    spec = reader.mapping(doc.get("spec"), f"{path}spec")
    reader.known(spec, f"{path}spec", CONDITION_FIELDS)
    out: dict[str, Any]
    out = {"severity": reader.text(spec.get("severity"), f"{path}spec.severity", required=True)}
    if spec.get("description") is not None:
        out["description"] = reader.description(spec["description"], f"{path}spec.description")
    condition = reader.mapping(spec.get("condition"), f"{path}spec.condition")
    at = f"{path}spec.condition"
    reader.known(condition, at, BURN_RATE_FIELDS)
    if condition.get("kind", "burnrate") != "burnrate":
        raise reader.problems.stop(reader.where, f"{at}.kind", "the spec defines kind: burnrate")
    threshold = reader.number(condition.get("threshold"), f"{at}.threshold")
    if threshold <= 0:
        raise reader.problems.stop(reader.where, f"{at}.threshold", "a positive burn rate")
    rule: dict[str, object]
    rule = {"kind": "burnrate", "threshold": int(threshold) if threshold == int(threshold)
            else float(threshold)}
    for window in ("lookbackWindow", "alertAfter"):
        if window == "alertAfter" and window not in condition:
            continue
        try:
            count, unit = openslo_windows.parse_shorthand(condition.get(window))
        except ValueError as exc:
            raise reader.problems.stop(reader.where, f"{at}.{window}", str(exc)) from exc
        rule[window] = f"{count}{unit}"
    out["condition"] = rule
    return {"kind": "AlertCondition",
            "metadata": _metadata(reader, doc.get("metadata"), f"{path}metadata"), "spec": out}


def _target(reader: Reader, doc: dict, path: str) -> dict:
    spec = reader.mapping(doc.get("spec"), f"{path}spec")
    reader.known(spec, f"{path}spec", ("description", "target"))
    out = {"target": reader.text(spec.get("target"), f"{path}spec.target", required=True)}
    if spec.get("description") is not None:
        out["description"] = reader.description(spec["description"], f"{path}spec.description")
    return {"kind": "AlertNotificationTarget",
            "metadata": _metadata(reader, doc.get("metadata"), f"{path}metadata"), "spec": out}


def _policy(reader: Reader, doc: dict, path: str, objects: dict) -> dict:
    spec = reader.mapping(doc.get("spec"), f"{path}spec")
    reader.known(spec, f"{path}spec", POLICY_FIELDS)
    out: dict = {}
    if spec.get("description") is not None:
        out["description"] = reader.description(spec["description"], f"{path}spec.description")
    for flag in ("alertWhenNoData", "alertWhenResolved", "alertWhenBreaching"):
        if reader.boolean(spec.get(flag), f"{path}spec.{flag}") is not None:
            out[flag] = spec[flag]
    conditions = spec.get("conditions")
    if not isinstance(conditions, list) or len(conditions) != 1:
        raise reader.problems.stop(reader.where, f"{path}spec.conditions",
                                   "exactly one condition (the spec allows one for now)")
    out["conditions"] = [_condition(*_resolve(reader, conditions[0], f"{path}spec.conditions[0]",
                                              "AlertCondition", "conditionRef", objects))]
    targets = spec.get("notificationTargets")
    if not isinstance(targets, list) or len(targets) > 50:
        raise reader.problems.stop(reader.where, f"{path}spec.notificationTargets",
                                   "required: a list of up to 50 notification targets")
    out["notificationTargets"] = [
        _target(*_resolve(reader, t, f"{path}spec.notificationTargets[{i}]",
                          "AlertNotificationTarget", "targetRef", objects))
        for i, t in enumerate(targets)]
    return {"kind": "AlertPolicy",
            "metadata": _metadata(reader, doc.get("metadata"), f"{path}metadata"), "spec": out}


def alert_policies(reader: Reader, value: object, path: str, objects: dict) -> list[dict]:
    """The SLO's alert policies as inline documents; problems recorded with their paths."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        raise reader.problems.stop(reader.where, path, "expected a list of up to 50 policies")
    policies = []
    for i, item in enumerate(value):
        try:
            policies.append(_policy(*_resolve(reader, item, f"{path}[{i}]", "AlertPolicy",
                                              "alertPolicyRef", objects), objects))
        except Stop:
            continue
    return policies


def check_alone(reader: Reader, kind: str, doc: dict, objects: dict) -> None:
    """Check an alerting document by itself, so one no SLO refers to is not taken unread."""
    if kind == "AlertPolicy":
        _policy(reader, doc, "", objects)
    elif kind == "AlertCondition":
        _condition(reader, doc, "")
    elif kind == "AlertNotificationTarget":
        _target(reader, doc, "")
