"""OpenSLO v1 import and export against files written by hand from the spec
(tests/data/openslo), checked with a JSON Schema of OpenSLO v1 and the `jsonschema` package."""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml
from sqlalchemy import select

from portal.catalog import service as catalog
from portal.demo.seed import seed_catalog
from portal.slo import demo, openslo, specs
from portal.slo.models import Slo
from portal.untrusted_yaml import load_all

DATA = Path(__file__).resolve().parents[2] / "data" / "openslo"
VALID = sorted(DATA.glob("valid-*.yaml"))
INVALID = {
    "invalid-display-name-as-name.yaml": ("(SLO Foo SLO) metadata.name", "RFC 1123"),
    "invalid-indicator-and-ref.yaml": ("(SLO foo-both) spec.indicator",
                                       "exactly one of indicator and indicatorRef"),
    "invalid-target-out-of-range.yaml": ("(SLO foo-target) spec.objectives[0].target",
                                         "strictly between 0 and 1"),
    "invalid-timeslices-without-window.yaml": (
        "(SLO foo-slices) spec.objectives[0].timeSliceWindow", "duration shorthand"),
    "invalid-two-time-windows.yaml": ("(SLO foo-windows) spec.timeWindow", "exactly one"),
    "invalid-unresolved-alert-policy.yaml": (
        "(SLO foo-alerted) spec.alertPolicies[0].alertPolicyRef",
        "no AlertPolicy named 'nowhere-to-be-found' in this file"),
}
VALIDATOR = jsonschema.Draft202012Validator(
    json.loads((DATA / "openslo-v1.schema.json").read_text()))


def as_json(value):
    """YAML data in JSON's model: YAML reads an unquoted startTime as a timestamp."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def schema_errors(text: str) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}"
            for doc in load_all(text) for e in VALIDATOR.iter_errors(as_json(doc))]


@pytest.fixture
def foo(session):
    """The catalog service the hand-written files name (spec.service: foo)."""
    team = catalog.upsert_team(session=session, slug="foo-team", name="Foo team",
                               chat_channel=None)
    return catalog.upsert_service(session=session, slug="foo", team=team, name="Foo",
                                  base_url=None)


def foo_slos(session, foo) -> dict[str, Slo]:
    return {s.name: s for s in session.scalars(select(Slo).where(Slo.service_id == foo.id))}


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(VALIDATOR.schema)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_hand_written_valid_files_pass_the_schema(path):
    assert schema_errors(path.read_text()) == []


@pytest.mark.parametrize("name", sorted(INVALID))
def test_hand_written_invalid_files_fail_the_schema_or_their_references(name):
    text = (DATA / name).read_text()
    # A dangling reference is valid per document; only reading the whole file finds it.
    assert schema_errors(text) or "unresolved" in name


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_each_valid_file_imports(session, foo, path):
    imported = openslo.import_documents(session=session, text=path.read_text())
    documents = [d for d in load_all(path.read_text()) if d["kind"] == "SLO"]
    assert sorted(s.name for s in imported) == sorted(d["metadata"]["name"] for d in documents)
    assert set(foo_slos(session, foo)) == {d["metadata"]["name"] for d in documents}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_each_invalid_file_is_refused_with_a_field_message(client, login_as, session, foo,
                                                           name):
    login_as("developer")
    response = client.post_form("/slo/import", {"document": (DATA / name).read_text()})
    where, message = INVALID[name]
    body = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    line = next(li for li in body.split("<li>") if f"{where}: " in li)
    assert message in line
    assert foo_slos(session, foo) == {}


def test_display_name_stays_apart_from_the_name(session, foo):
    openslo.import_documents(session=session,
                             text=(DATA / "valid-inline-ratio-display-name.yaml").read_text())
    slo = foo_slos(session, foo)["foo-slo"]
    assert (slo.name, slo.display_name) == ("foo-slo", "Foo SLO")
    assert slo.window_days == 28 and slo.objective == 98


def test_bad_total_is_measured_as_its_exact_complement(session, foo):
    openslo.import_documents(
        session=session, text=(DATA / "valid-referenced-bad-total-calendar.yaml").read_text())
    slo = foo_slos(session, foo)["foo-monthly-availability"]
    assert slo.good_query == 'http_requests_total{service="foo",code!~"5.."}'
    assert slo.ratio_numerator == "bad" and slo.is_calendar
    assert (slo.window_duration, slo.calendar_time_zone) == ("1M", "America/New_York")
    assert slo.calendar_start == datetime(2020, 1, 21, 12, 30)
    [policy] = slo.alert_policies
    assert policy["spec"]["conditions"][0]["spec"]["condition"]["threshold"] == 2
    assert policy["spec"]["notificationTargets"][0]["spec"]["target"] == "slack"
    document = openslo.to_document(slo)
    assert document["spec"]["indicator"]["spec"]["ratioMetric"]["bad"]["metricSource"][
        "spec"]["query"] == 'http_requests_total{service="foo",code=~"5.."}'


def test_threshold_metric_becomes_the_histogram_bucket_over_its_count(session, foo):
    openslo.import_documents(
        session=session, text=(DATA / "valid-threshold-timeslices-week.yaml").read_text())
    slo = foo_slos(session, foo)["foo-latency-weekly"]
    assert (slo.sli_kind, slo.latency_threshold_ms) == ("latency", 300)
    assert slo.good_query == 'http_request_duration_seconds_bucket{service="foo",le="0.3"}'
    assert slo.total_query == 'http_request_duration_seconds_count{service="foo"}'
    assert (slo.budgeting_method, slo.time_slice_window) == ("Timeslices", "5m")
    assert str(slo.time_slice_target) == "0.95000000"


def _round_trip_view(slo: Slo) -> dict:
    return {"name": slo.name, "display": slo.display_name, "days": slo.window_days,
            # A window the form made has no shorthand yet; the export writes it in days.
            "window": (slo.window_duration or f"{slo.window_days}d", slo.calendar_start,
                       slo.calendar_time_zone),
            "budgeting": (slo.budgeting_method, slo.time_slice_target, slo.time_slice_window),
            "alerts": slo.alert_policies, "kept": slo.openslo_metadata,
            "queries": (slo.sli_kind, slo.good_query, slo.total_query, slo.ratio_numerator),
            "objective": slo.objective, "description": slo.description}


def test_round_trip_keeps_names_windows_budgeting_and_alert_policies(client, login_as,
                                                                      session, foo):
    for path in VALID:
        openslo.import_documents(session=session, text=path.read_text())
    before = {n: _round_trip_view(s) for n, s in foo_slos(session, foo).items()}
    login_as("manager")
    exported = client.get("/slo/openslo.yaml").get_data(as_text=True)
    assert schema_errors(exported) == []
    ours = [d for d in yaml.safe_load_all(exported) if d["spec"]["service"] == "foo"]
    assert {d["metadata"]["name"] for d in ours} == set(before)
    by_name = {d["metadata"]["name"]: d for d in ours}
    assert by_name["foo-slo"]["metadata"]["displayName"] == "Foo SLO"
    assert by_name["foo-slo"]["spec"]["timeWindow"] == [{"duration": "4w", "isRolling": True}]
    assert by_name["foo-latency-weekly"]["spec"]["objectives"][0]["op"] == "lte"
    assert by_name["foo-quarterly-ratio"]["spec"]["objectives"][0]["timeSliceWindow"] == 10
    for slo in foo_slos(session, foo).values():
        session.delete(slo)
    session.flush()
    response = client.post_form("/slo/import", {"document": yaml.safe_dump_all(ours)})
    assert response.status_code == 303
    session.expire_all()
    assert {n: _round_trip_view(s) for n, s in foo_slos(session, foo).items()} == before


def test_export_stays_within_the_spec_limits(session, foo):
    long_name = "a" * 61 + "-z"
    slo = specs.create(session=session, service=foo, spec=specs.clean({
        "name": long_name, "objective": "99.9", "window_days": 30,
        "description": "x" * 3000, "good_query": 'up{job="a"}', "total_query": "up"}))
    text = openslo.export([slo])
    document = yaml.safe_load(text)
    assert len(document["metadata"]["name"]) == 63
    assert len(document["spec"]["indicator"]["metadata"]["name"]) <= 63
    assert len(document["spec"]["description"]) == 1050
    assert schema_errors(text) == []


UNSUPPORTED = [
    ("type: Prometheus", "type: Datadog",
     "spec.indicator.spec.ratioMetric.good.metricSource.type", "only Prometheus"),
    ("counter: true", "counter: false", "spec.indicator.spec.ratioMetric.counter",
     "only counters"),
    ("target: 0.98", "target: 0.98\n      timeSliceWindow: 5m",
     "spec.objectives[0].timeSliceWindow", "need budgetingMethod Timeslices"),
    ("duration: 4w", "duration: 2M", "spec.timeWindow[0].duration", "days or weeks"),
    ("budgetingMethod: Occurrences", "budgetingMethod: Sometimes", "spec.budgetingMethod",
     "one of Occurrences"),
]


@pytest.mark.parametrize("old,new,path,message", UNSUPPORTED)
def test_what_cannot_be_measured_is_refused_by_field(session, foo, old, new, path, message):
    text = (DATA / "valid-inline-ratio-display-name.yaml").read_text()
    assert old in text
    with pytest.raises(specs.SpecInvalid) as refused:
        openslo.import_documents(session=session, text=text.replace(old, new, 1))
    key = f"document 3 (SLO foo-slo) {path}"
    assert message in refused.value.errors[key], refused.value.errors
    assert foo_slos(session, foo) == {}


def test_unknown_service_and_typos_are_named(session, foo):
    text = (DATA / "valid-inline-ratio-display-name.yaml").read_text()
    typo = text.replace("budgetingMethod: Occurrences",
                        "budgetingMethod: Occurrences\n  budgetMethod: Timeslices")
    with pytest.raises(specs.SpecInvalid) as refused:
        openslo.import_documents(session=session, text=typo)
    assert "unknown field" in refused.value.errors["document 3 (SLO foo-slo) spec.budgetMethod"]
    with pytest.raises(specs.SpecInvalid) as refused:
        openslo.import_documents(session=session, text=text.replace("service: foo",
                                                                    "service: nope"))
    assert refused.value.errors == {"document 3 (SLO foo-slo) spec.service":
                                    "no service 'nope' in the catalog"}


HOSTILE = {
    "deep": "a: " + "[" * 5000 + "]" * 5000,
    "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)),
    "nul": "apiVersion: openslo/v1\x00\nkind: SLO",
    "huge number": (DATA / "valid-inline-ratio-display-name.yaml").read_text().replace(
        "target: 0.98", "target: " + "9" * 5000),
    "infinite": (DATA / "valid-inline-ratio-display-name.yaml").read_text().replace(
        "target: 0.98", "target: .inf"),
    "unicode digits": (DATA / "valid-inline-ratio-display-name.yaml").read_text().replace(
        "duration: 4w", "duration: ٤w"),
    "not a mapping": "- just\n- a list",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_input_gets_a_4xx_with_a_message(client, login_as, foo, kind):
    login_as("developer")
    response = client.post_form("/slo/import", {"document": HOSTILE[kind]})
    assert 400 <= response.status_code < 500
    assert 'class="field-error"' in response.get_data(as_text=True) or \
        response.status_code == 400


def test_every_demo_slo_exports_within_the_schema_and_comes_back_unchanged(session):
    seed_catalog(session=session)
    made = [specs.create(session=session, spec=specs.clean(raw),
                         service=catalog.get_service(session=session, slug=slug))
            for slug, raws in demo.SEED_SLOS.items() for raw in raws]
    text = openslo.export(made)
    assert schema_errors(text) == []
    kinds = {d["metadata"]["name"]: next(iter(d["spec"]["indicator"]["spec"]))
             for d in yaml.safe_load_all(text) if d["spec"]["service"] == "api-gateway"}
    assert kinds == {"availability": "ratioMetric", "added-latency-p99": "thresholdMetric"}
    before = {(s.service.slug, s.name): _round_trip_view(s) for s in made}
    for slo in made:
        session.delete(slo)
    session.flush()
    again = openslo.import_documents(session=session, text=text)
    after = {(s.service.slug, s.name): _round_trip_view(s) for s in again}
    assert {k: [(f, v, after[k][f]) for f, v in view.items() if after[k][f] != v]
            for k, view in before.items()} == {k: [] for k in before}


@pytest.mark.parametrize("start", ["2020-01-21 12:30:00Z", "12", "'the 21st'", "2020-02-30"])
def test_a_start_time_with_a_zone_or_no_date_is_refused(session, foo, start):
    text = (DATA / "valid-referenced-bad-total-calendar.yaml").read_text().replace(
        "startTime: 2020-01-21 12:30:00", f"startTime: {start}")
    with pytest.raises(specs.SpecInvalid) as refused:
        openslo.import_documents(session=session, text=text)
    assert list(refused.value.errors) in (
        ["document 6 (SLO foo-monthly-availability) spec.timeWindow[0].calendar.startTime"],
        ["document"])


def test_documents_no_slo_refers_to_are_checked_too(session, foo):
    text = (DATA / "valid-inline-ratio-display-name.yaml").read_text() + (
        "---\napiVersion: openslo/v1\nkind: SLI\nmetadata: {name: spare}\n"
        "spec: {ratioMetric: {counter: true, raw: {metricSource: {type: Prometheus, "
        "spec: {query: x}}}, rawType: success}}\n"
        "---\napiVersion: openslo/v1\nkind: AlertCondition\nmetadata: {name: loose}\n"
        "spec: {severity: page, condition: {kind: burnrate, threshold: 2, "
        "lookbackWindow: an hour}}\n")
    with pytest.raises(specs.SpecInvalid) as refused:
        openslo.import_documents(session=session, text=text)
    assert set(refused.value.errors) == {
        "document 4 (SLI spare) spec.ratioMetric.raw",
        "document 5 (AlertCondition loose) spec.condition.lookbackWindow"}
