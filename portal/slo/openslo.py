"""OpenSLO v1 import and export (https://github.com/OpenSLO/OpenSLO, kind: SLO with an
inline ratioMetric indicator over Prometheus counter selectors, rolling time window,
Occurrences budgeting)."""
from __future__ import annotations

from decimal import Decimal

import yaml
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.slo import specs
from portal.slo.models import Slo

ANNOTATION = "portal.meridian.example/"


def to_document(slo: Slo) -> dict:
    """One SLO as an OpenSLO v1 document."""
    annotations = {f"{ANNOTATION}owner": slo.owner, f"{ANNOTATION}sli-kind": slo.sli_kind}
    if slo.latency_threshold_ms:
        annotations[f"{ANNOTATION}latency-threshold-ms"] = str(slo.latency_threshold_ms)

    def source(query: str) -> dict:
        return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}

    return {
        "apiVersion": "openslo/v1", "kind": "SLO",
        "metadata": {"name": f"{slo.service.slug}-{slo.name}", "displayName": slo.name,
                     "annotations": annotations},
        "spec": {
            "description": slo.description, "service": slo.service.slug,
            "indicator": {"metadata": {"name": f"{slo.service.slug}-{slo.name}-sli"},
                          "spec": {"ratioMetric": {"counter": True,
                                                   "good": source(slo.good_query),
                                                   "total": source(slo.total_query)}}},
            "timeWindow": [{"duration": f"{slo.window_days}d", "isRolling": True}],
            "budgetingMethod": "Occurrences",
            "objectives": [{"displayName": slo.name,
                            "target": float(Decimal(slo.objective) / 100)}],
        },
    }


def export(slos: list[Slo]) -> str:
    """SLOs as a multi-document OpenSLO YAML stream."""
    return yaml.safe_dump_all([to_document(s) for s in slos], sort_keys=False)


def _raw_spec(doc: dict) -> tuple[str, dict]:
    """(service slug, raw spec fields) of one document; KeyError/TypeError when malformed."""
    if doc.get("apiVersion") != "openslo/v1" or doc.get("kind") != "SLO":
        raise ValueError("only apiVersion openslo/v1, kind SLO is supported")
    meta, spec = doc["metadata"], doc["spec"]
    annotations = meta.get("annotations") or {}
    ratio = spec["indicator"]["spec"]["ratioMetric"]
    window = spec["timeWindow"][0]
    duration = str(window["duration"])
    if not duration.endswith("d") or not window.get("isRolling", False):
        raise ValueError("only rolling windows in days (e.g. 30d) are supported")
    target = Decimal(str(spec["objectives"][0]["target"])) * 100
    return str(spec["service"]), {
        "name": meta.get("displayName") or meta["name"],
        "sli_kind": annotations.get(f"{ANNOTATION}sli-kind", "ratio"),
        "objective": target, "window_days": duration[:-1],
        "owner": annotations.get(f"{ANNOTATION}owner", ""),
        "description": spec.get("description", ""),
        "latency_threshold_ms": annotations.get(f"{ANNOTATION}latency-threshold-ms"),
        "good_query": ratio["good"]["metricSource"]["spec"]["query"],
        "total_query": ratio["total"]["metricSource"]["spec"]["query"],
    }


def import_documents(*, session: Session, text: str) -> list[Slo]:
    """Create or update the SLOs of an OpenSLO YAML stream; nothing is kept on any error."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise specs.SpecInvalid({"document": f"not valid YAML: {exc}"}) from exc
    if not docs:
        raise specs.SpecInvalid({"document": "no OpenSLO document found"})
    slos = []
    with session.begin_nested():
        for number, doc in enumerate(docs, start=1):
            try:
                slug, raw = _raw_spec(doc)
            except (KeyError, TypeError, IndexError, AttributeError, ArithmeticError) as exc:
                raise specs.SpecInvalid({"document": f"document {number}: missing or malformed "
                                                     f"field {exc}"}) from exc
            except ValueError as exc:
                raise specs.SpecInvalid({"document": f"document {number}: {exc}"}) from exc
            service = catalog.get_service(session=session, slug=slug)
            if service is None:
                raise specs.SpecInvalid({"document": f"document {number}: unknown service "
                                                     f"{slug!r}"})
            try:
                slos.append(specs.upsert(session=session, service=service,
                                         spec=specs.clean(raw)))
            except specs.SpecInvalid as exc:
                raise specs.SpecInvalid({"document": f"document {number}: {exc}"}) from exc
    return slos
