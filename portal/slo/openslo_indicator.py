"""OpenSLO indicators (SLI specs) as the portal's good/total counter selectors.

The portal measures every SLI from two Prometheus counters, so the same selectors work in
Prometheus and in its own scrape of /metrics. That covers:
- ratioMetric good/total: taken as written;
- ratioMetric bad/total: when bad is the total selector plus one label matcher, good is
  the total with that matcher negated (exactly total - bad), e.g. code=~"5.." -> code!~"5..";
- thresholdMetric over a Prometheus histogram (`name{labels}` with `op: lte`): the share of
  observations at or below `value` is the `le` bucket over the count, the portal's latency
  SLI. The histogram's unit comes from its name (_seconds or _ms/_milliseconds).
Everything else (raw ratios, gauges, other metric sources) is refused with its field path.
"""
from __future__ import annotations

from decimal import Decimal

from portal.slo import selectors
from portal.slo.openslo_problems import Reader
from portal.slo.selectors import Matcher, Selector

NEGATED = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}
RATIO_FIELDS = ("counter", "good", "bad", "total", "rawType", "raw")
SOURCE_FIELDS = ("metricSourceRef", "type", "spec")


def render(selector: Selector) -> str:
    """Selector text the parser reads back to the same selector."""
    def quoted(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"')
    body = ",".join(f'{m.label}{m.op}"{quoted(m.value)}"' for m in selector.matchers)
    return f"{selector.metric}{{{body}}}" if body else selector.metric


def _query(reader: Reader, holder: object, path: str, sources: dict[str, dict]) -> Selector:
    """The Prometheus counter selector of a `{metricSource: ...}` holder."""
    source = reader.mapping(reader.mapping(holder, path).get("metricSource"),
                            f"{path}.metricSource")
    reader.known(source, f"{path}.metricSource", SOURCE_FIELDS)
    kind = source.get("type")
    ref = source.get("metricSourceRef")
    if ref is not None:
        data_source = sources.get(ref) if isinstance(ref, str) else None
        if data_source is None:
            raise reader.problems.stop(reader.where, f"{path}.metricSource.metricSourceRef",
                                       f"no DataSource named {str(ref)[:80]!r} in this file")
        kind = kind or data_source.get("type")
    if kind != "Prometheus":
        raise reader.problems.stop(
            reader.where, f"{path}.metricSource.type",
            "only Prometheus metric sources can be measured (the portal reads them through "
            "its Prometheus or its own scrape of the services' /metrics)")
    spec = reader.mapping(source.get("spec"), f"{path}.metricSource.spec")
    query = reader.text(spec.get("query"), f"{path}.metricSource.spec.query", required=True,
                        limit=1000)
    try:
        return selectors.parse(query)
    except ValueError as exc:
        raise reader.problems.stop(reader.where, f"{path}.metricSource.spec.query",
                                   f"{exc} (a counter selector, without functions)") from exc


def _good_from_bad(reader: Reader, bad: Selector, total: Selector, path: str) -> Selector:
    extra = [m for m in bad.matchers if m not in total.matchers]
    if (bad.metric != total.metric or len(extra) != 1
            or len(bad.matchers) != len(total.matchers) + 1):
        raise reader.problems.stop(
            reader.where, f"{path}.bad.metricSource.spec.query",
            "bad events can be measured when the bad selector is the total selector plus one "
            'label matcher (e.g. total http_requests_total{service="a"}, bad '
            'http_requests_total{service="a",code=~"5.."}); otherwise give good and total')
    (matcher,) = extra
    negated = Matcher(matcher.label, NEGATED[matcher.op], matcher.value)
    return Selector(total.metric, (*total.matchers, negated))


def ratio(reader: Reader, metric: object, path: str, sources: dict[str, dict]) -> dict:
    """Portal fields of a ratioMetric."""
    metric = reader.mapping(metric, path)
    reader.known(metric, path, RATIO_FIELDS)
    if "raw" in metric or "rawType" in metric:
        raise reader.problems.stop(
            reader.where, f"{path}.raw",
            "a precomputed ratio carries no event counts, so no error budget can be kept "
            "from it; give good (or bad) and total counters instead")
    if metric.get("counter") is not True:
        raise reader.problems.stop(
            reader.where, f"{path}.counter",
            "only counters can be measured (counter: true); a gauge's values are not counts "
            "of events")
    if ("good" in metric) == ("bad" in metric):
        raise reader.problems.stop(reader.where, f"{path}.good",
                                   "give exactly one of good and bad, with total")
    total = _query(reader, metric.get("total"), f"{path}.total", sources)
    numerator = "good" if "good" in metric else "bad"
    counted = _query(reader, metric[numerator], f"{path}.{numerator}", sources)
    good = counted if numerator == "good" else _good_from_bad(reader, counted, total, path)
    return {"sli_kind": "ratio", "good_query": render(good), "total_query": render(total),
            "ratio_numerator": numerator}


def _unit_ms(metric: str) -> Decimal | None:
    if metric.endswith("_seconds"):
        return Decimal(1000)
    if metric.endswith(("_ms", "_milliseconds")):
        return Decimal(1)
    return None


def threshold(reader: Reader, metric: object, path: str, sources: dict[str, dict],
              objective: dict, slo: Reader) -> dict:
    """Portal fields of a thresholdMetric over a histogram, given its one objective."""
    histogram = _query(reader, metric, path, sources)
    query_path = f"{path}.metricSource.spec.query"
    scale = _unit_ms(histogram.metric)
    if scale is None or histogram.metric.endswith(("_bucket", "_count", "_sum")):
        raise reader.problems.stop(
            reader.where, query_path,
            "a threshold is measured on a Prometheus histogram named by its base name in "
            "seconds or milliseconds (e.g. http_request_duration_seconds{service=\"a\"}), "
            "counting the observations in its le bucket")
    if any(m.label == "le" for m in histogram.matchers):
        raise reader.problems.stop(reader.where, query_path,
                                   "leave out le: the objective's value picks the bucket")
    objective_path = "spec.objectives[0]"
    if objective.get("op") != "lte":
        raise slo.problems.stop(
            slo.where, f"{objective_path}.op",
            "a histogram counts observations at or below a bucket bound, so only op: lte "
            "can be measured")
    value = slo.number(objective.get("value"), f"{objective_path}.value")
    ms = value * scale
    if value <= 0 or ms != ms.to_integral_value() or ms > 10 ** 9:
        raise slo.problems.stop(slo.where, f"{objective_path}.value",
                                "a positive threshold in whole milliseconds")
    bound = format(value.normalize(), "f")
    good = Selector(f"{histogram.metric}_bucket",
                    (*histogram.matchers, Matcher("le", "=", bound)))
    total = Selector(f"{histogram.metric}_count", histogram.matchers)
    return {"sli_kind": "latency", "good_query": render(good), "total_query": render(total),
            "latency_threshold_ms": int(ms), "ratio_numerator": "good"}


def as_threshold(good_query: str, total_query: str) -> tuple[str, Decimal] | None:
    """(histogram query, bound) when a latency SLO's selectors are a bucket over its count."""
    try:
        good, total = selectors.parse(good_query), selectors.parse(total_query)
    except ValueError:
        return None
    bounds = [m for m in good.matchers if m.label == "le" and m.op == "="]
    base = total.metric.removesuffix("_count")
    if (len(bounds) != 1 or good.metric != f"{base}_bucket" or base == total.metric
            or _unit_ms(base) is None
            or set(good.matchers) - set(bounds) != set(total.matchers)
            or len(good.matchers) != len(total.matchers) + 1):
        return None
    try:
        bound = Decimal(bounds[0].value)
    except ArithmeticError:
        return None
    if not bound.is_finite() or bound <= 0:
        return None
    return render(Selector(base, total.matchers)), bound


def as_bad(good_query: str, total_query: str) -> str | None:
    """The bad selector when good is the total plus one negatable matcher, else None."""
    try:
        good, total = selectors.parse(good_query), selectors.parse(total_query)
    except ValueError:
        return None
    extra = [m for m in good.matchers if m not in total.matchers]
    if good.metric != total.metric or len(extra) != 1 or \
            len(good.matchers) != len(total.matchers) + 1:
        return None
    (matcher,) = extra
    return render(Selector(total.metric,
                           (*total.matchers, Matcher(matcher.label, NEGATED[matcher.op],
                                                     matcher.value))))


def indicator_fields(reader: Reader, spec: dict, path: str, sources: dict[str, dict],
                     objective: dict, slo: Reader) -> dict:
    """Portal fields of an SLI spec (ratio or threshold) read with `reader`, its objective
    with `slo`'s reader; raises Stop after recording a problem."""
    reader.known(spec, path, ("description", "ratioMetric", "thresholdMetric"))
    if ("ratioMetric" in spec) == ("thresholdMetric" in spec):
        raise reader.problems.stop(reader.where, f"{path}.ratioMetric",
                                   "give exactly one of ratioMetric and thresholdMetric")
    if "ratioMetric" in spec:
        for field in ("op", "value"):
            if field in objective:
                slo.problems.add(slo.where, f"spec.objectives[0].{field}",
                                    "op and value compare a thresholdMetric; this indicator "
                                    "is a ratioMetric")
        return ratio(reader, spec["ratioMetric"], f"{path}.ratioMetric", sources)
    return threshold(reader, spec["thresholdMetric"], f"{path}.thresholdMetric", sources,
                     objective, slo)


def check_alone(reader: Reader, spec: dict, sources: dict[str, dict]) -> None:
    """Check an SLI document by itself, so one no SLO refers to is not taken unread (a
    threshold's op and value live in the SLO, so only its metric source is checked)."""
    reader.known(spec, "spec", ("description", "ratioMetric", "thresholdMetric"))
    if ("ratioMetric" in spec) == ("thresholdMetric" in spec):
        raise reader.problems.stop(reader.where, "spec.ratioMetric",
                                   "give exactly one of ratioMetric and thresholdMetric")
    if "ratioMetric" in spec:
        ratio(reader, spec["ratioMetric"], "spec.ratioMetric", sources)
    else:
        _query(reader, spec["thresholdMetric"], "spec.thresholdMetric", sources)
