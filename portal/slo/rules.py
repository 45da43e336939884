"""SLO-as-code: Prometheus recording rules (error ratio per burn window and over the SLO
period, plus error-budget metadata) and multiwindow multi-burn-rate alerting rules (SRE
Workbook) generated from the same specs.

Recording names and labels follow Sloth's (`slo:sli_error:ratio_rate<window>`,
`slo:period_error_budget_remaining:ratio`, ... labelled `sloth_id`, `sloth_service`,
`sloth_slo`), so dashboards and alerts written for Sloth's output work on these too.

`python -m portal.slo.rules infra/prometheus` rewrites the committed files from the seeded
specs; `/slo/rules.yml` serves the rules of the specs currently in the database.
"""
from __future__ import annotations

import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Protocol

import yaml

from portal.catalog.alert_catalogue import RUNBOOK_BASE_URL
from portal.slo.demo import SEED_SLOS
from portal.slo.service import ALERT_RULES, BURN_WINDOWS, budget_fraction

# One catalog runbook answers every burn-rate alert (its labels name the SLO and windows),
# so an SLO created in the portal never points at a runbook nobody wrote.
RUNBOOK_URL = f"{RUNBOOK_BASE_URL}error-budget-burn"
DASHBOARD = "https://grafana.meridian.example/d/slo-burn-rate"


class SpecLike(Protocol):
    service_slug: str
    name: str
    objective: Decimal
    good_query: str
    total_query: str
    window_days: int


def slo_id(spec: SpecLike) -> str:
    return f"{spec.service_slug}-{spec.name}"


def record_name(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def _labels(spec: SpecLike) -> dict[str, str]:
    """The labels of every rule of one SLO: ours (slo, service) and Sloth's."""
    return {"slo": slo_id(spec), "service": spec.service_slug, "sloth_id": slo_id(spec),
            "sloth_service": spec.service_slug, "sloth_slo": spec.name}


def _select(spec: SpecLike) -> str:
    return (f'{{sloth_id="{slo_id(spec)}", sloth_service="{spec.service_slug}", '
            f'sloth_slo="{spec.name}"}}')


def period(spec: SpecLike) -> str:
    return f"{spec.window_days}d"


def _recording(spec: SpecLike) -> list[dict]:
    labels = _labels(spec)
    rules = [{"record": record_name(w),
              "expr": f"1 - (sum(rate({spec.good_query}[{w}])) / "
                      f"sum(rate({spec.total_query}[{w}])))",
              "labels": {**labels, "sloth_window": w}} for w in BURN_WINDOWS]
    # Like Sloth, the period ratio averages the recorded 5m ratios instead of a rate over
    # the whole period, which would make Prometheus read 30 days of raw samples each time.
    if period(spec) in BURN_WINDOWS:
        return rules  # a 1- or 3-day SLO's period ratio is already one of the windows
    five = f"{record_name('5m')}{_select(spec)}[{period(spec)}]"
    rules.append({"record": record_name(period(spec)),
                  "expr": f"sum_over_time({five}) / ignoring (sloth_window) "
                          f"count_over_time({five})",
                  "labels": {**labels, "sloth_window": period(spec)}})
    return rules


def _one(record: str, sel: str) -> str:
    """A window's error ratio without its sloth_window label, so the budget series of an SLO
    have one label set whatever window they come from."""
    return f"max without (sloth_window) ({record}{sel})"


def _budget(spec: SpecLike) -> list[dict]:
    """Sloth's metadata and error-budget series: objective, budget, period, burn rates and
    the share of the period's budget left (1 untouched, 0 used up, below 0 overspent)."""
    labels, sel = _labels(spec), _select(spec)
    objective = Fraction(str(spec.objective)) / 100
    per_budget = f" / on (sloth_id, sloth_slo, sloth_service) group_left " \
                 f"slo:error_budget:ratio{sel}"
    exprs = [
        ("slo:objective:ratio", f"vector({float(objective)!r})"),
        ("slo:error_budget:ratio", f"vector(1 - {float(objective)!r})"),
        ("slo:time_period:days", f"vector({spec.window_days})"),
        ("slo:current_burn_rate:ratio", f"{_one(record_name('5m'), sel)}{per_budget}"),
        ("slo:period_burn_rate:ratio", f"{_one(record_name(period(spec)), sel)}{per_budget}"),
        ("slo:period_error_budget_remaining:ratio", f"1 - slo:period_burn_rate:ratio{sel}"),
    ]
    return [{"record": name, "expr": expr, "labels": labels} for name, expr in exprs]


def _alerts(spec: SpecLike) -> list[dict]:
    allowed = budget_fraction(spec.objective)
    sid = slo_id(spec)
    out = []
    for severity, long_w, short_w, threshold in ALERT_RULES:
        limit = f"({float(threshold):g} * {float(allowed):g})"
        out.append({
            "alert": "ErrorBudgetBurn",
            # Each window's series carries its own sloth_window label: drop it so that
            # `and` matches the two windows of the same SLO.
            "expr": f'max without (sloth_window) ({record_name(long_w)}{{slo="{sid}"}}) '
                    f'> {limit}\nand\nmax without (sloth_window) '
                    f'({record_name(short_w)}{{slo="{sid}"}}) > {limit}',
            "for": "2m" if severity == "page" else "15m",
            "labels": {"severity": severity, "slo": sid, "service": spec.service_slug,
                       "long_window": long_w, "short_window": short_w},
            "annotations": {
                "summary": f"{sid} burns its error budget {float(threshold):g}x too fast "
                           f"({long_w} and {short_w} windows)",
                "runbook_url": RUNBOOK_URL,
                "dashboard_url": f"{DASHBOARD}?var-slo={sid}"}})
    return out


def rule_groups(specs: list[SpecLike]) -> dict:
    """The rules file content: a recording, an error-budget and an alerting group per SLO."""
    groups = []
    for spec in specs:
        groups.append({"name": f"slo-{slo_id(spec)}-recording", "interval": "30s",
                       "rules": _recording(spec)})
        groups.append({"name": f"slo-{slo_id(spec)}-budget", "interval": "30s",
                       "rules": _budget(spec)})
        groups.append({"name": f"slo-{slo_id(spec)}-alerts", "rules": _alerts(spec)})
    return {"groups": groups}


def dump(specs: list[SpecLike]) -> str:
    """The rules as YAML."""
    return yaml.safe_dump(rule_groups(specs), sort_keys=False, width=200)


def promtool_case(spec: SpecLike, *, good_series: str, bad_series: str | None = None,
                  total_series: str | None = None) -> dict:
    """A `promtool test rules` case: an hour of 1000 good events/min, then an hour at 20x
    the allowed error rate. One minute in nothing fires; at the end all four rule pairs
    (two pages, two tickets) fire with their labels, runbook and dashboard annotations.

    A ratio SLI splits its total over a good and a bad series (codes 2xx and 5xx); a
    latency SLI has the good series (the bucket) inside a total series (the count)."""
    bad = round(1000 * float(budget_fraction(spec.objective)) * 20)
    series: list[dict[str, str | None]]
    if total_series is not None:
        series = [{"series": good_series, "values": f"0+1000x60 60000+{1000 - bad}x60"},
                  {"series": total_series, "values": "0+1000x120"}]
    else:
        series = [{"series": good_series, "values": f"0+1000x60 60000+{1000 - bad}x60"},
                  {"series": bad_series, "values": f"0+0x60 0+{bad}x60"}]
    return {"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": "61m", "alertname": "ErrorBudgetBurn", "exp_alerts": []},
        {"eval_time": "120m", "alertname": "ErrorBudgetBurn", "exp_alerts": [
            {"exp_labels": {**_labels(spec), **a["labels"]},
             "exp_annotations": a["annotations"]}
            for a in _alerts(spec)]}]}


def budget_case(specs: list[tuple[SpecLike, dict]]) -> dict:
    """A `promtool test rules` case for the error-budget series of several SLOs at once (each
    with its own series): half an hour of 1000 events a minute, a steady half of the allowed
    share of them bad. Both burn rates are then 0.5 and half of the period's budget is left
    (values rounded to 1e-6 against float noise)."""
    series, tests = [], []
    for spec, names in specs:
        bad = 1000 * float(budget_fraction(spec.objective)) / 2
        series.append({"series": names["good_series"], "values": f"0+{1000 - bad:g}x30"})
        if "total_series" in names:
            series.append({"series": names["total_series"], "values": "0+1000x30"})
        else:
            series.append({"series": names["bad_series"], "values": f"0+{bad:g}x30"})
        labels = "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(_labels(spec).items())) + "}"
        expected = {"slo:current_burn_rate:ratio": 0.5, "slo:period_burn_rate:ratio": 0.5,
                    "slo:period_error_budget_remaining:ratio": 0.5,
                    "slo:error_budget:ratio": float(budget_fraction(spec.objective)),
                    "slo:time_period:days": spec.window_days}
        tests += [{"expr": f"round({name}{_select(spec)}, 0.000001)", "eval_time": "30m",
                   "exp_samples": [{"labels": labels, "value": value}]}
                  for name, value in expected.items()]
    return {"interval": "1m", "input_series": series, "promql_expr_test": tests}


def promtool_test(cases: list[dict], rules_file: str) -> dict:
    """The test file: each case's series are on their own, so only its SLO fires."""
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": cases}


def from_slo(slo) -> SpecLike:
    """The fields rules need, from a stored SLO."""
    return SimpleNamespace(service_slug=slo.service.slug, name=slo.name,
                           objective=slo.objective, good_query=slo.good_query,
                           total_query=slo.total_query, window_days=slo.window_days)


def _seed_specs() -> list[SpecLike]:
    return [SimpleNamespace(service_slug=slug, name=raw["name"],
                            objective=Decimal(raw["objective"]), good_query=raw["good_query"],
                            total_query=raw["total_query"],
                            window_days=int(raw.get("window_days", 30)))
            for slug, raws in SEED_SLOS.items() for raw in raws]


_ORDERS = 'service="order", route="/v1/tenants/<tenant>/orders"'
# Series shaped like what Kong and the order service expose (label sets included), so the
# test proves the generated selectors pick them up.
_TEST_SERIES = {
    ("api-gateway", "availability"): dict(
        good_series='kong_http_requests_total{service="storefront", route="storefront-api", '
                    'code="200", source="service"}',
        bad_series='kong_http_requests_total{service="storefront", route="storefront-api", '
                   'code="502", source="kong"}'),
    ("order", "availability"): dict(
        good_series=f'meridian_requests_total{{{_ORDERS}, method="POST", code="201"}}',
        bad_series=f'meridian_requests_total{{{_ORDERS}, method="POST", code="503"}}'),
    ("order", "order-creation-p99"): dict(
        good_series=f'meridian_request_duration_seconds_bucket{{{_ORDERS}, le="0.5"}}',
        total_series=f'meridian_request_duration_seconds_count{{{_ORDERS}}}'),
}


def write(out_dir: Path) -> None:
    """Write slo_rules.yml and its promtool test (alerts and error-budget series of Kong
    availability, order availability and order creation latency) into `out_dir`."""
    specs = _seed_specs()
    by_id = {(s.service_slug, s.name): s for s in specs}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "slo_rules.yml").write_text(
        "# Generated by `python -m portal.slo.rules infra/prometheus`: do not edit by hand.\n"
        + dump(specs))
    cases = [promtool_case(by_id[key], **series) for key, series in _TEST_SERIES.items()]
    cases.append(budget_case([(by_id[key], series) for key, series in _TEST_SERIES.items()]))
    (out_dir / "slo_rules_test.yml").write_text(
        "# Generated with slo_rules.yml: promtool test rules slo_rules_test.yml\n"
        + yaml.safe_dump(promtool_test(cases, "slo_rules.yml"), sort_keys=False, width=200))


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "infra/prometheus"))
