"""Hostile input at the portal's edge gives a 4xx with a message, never a 500: NUL bytes,
integers beyond PostgreSQL's range, unicode digits and long unicode, fed to every GET route
and the main forms as an admin and as a tenant viewer (a bounded hypothesis run)."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, cast, literal, select
from werkzeug.routing import ValidationError

from portal.extensions import db
from portal.security.inputs import INT4_MAX, PgIntConverter, is_email

HUGE = "99999999999999999999"
CORPUS = ["a\x00b", "\x00", HUGE, "-" + HUGE, "2147483648", "١٢٣٤٥٦٧٨٩٠١٢٣", "𝟗" * 30,
          "é" * 3000, "9" * 5000, "%00", "../../etc/passwd", "' OR 1=1 --"]
QUERY_NAMES = ["before", "after", "before_id", "after_id", "q", "status", "severity", "kind",
               "tier", "months", "focus", "service", "team", "state", "sort", "plan", "from",
               "m_name", "m_value", "warehouse", "since", "until", "actor", "ip", "token",
               "pins", "environment", "alertname", "days", "range"]
hostile = st.one_of(
    st.sampled_from(CORPUS),
    st.text(min_size=1, max_size=40).map(lambda s: s[: len(s) // 2] + "\x00" + s[len(s) // 2:]),
    st.integers(min_value=2**31, max_value=2**200).map(str),
    st.integers(max_value=-(2**31)).map(str),
    st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=40),
    st.text(min_size=200, max_size=4000),
)
FORMS = [  # (url, fields) of the main forms, with the fields hostile values go into
    ("/incidents/declare", ["title", "summary", "severity"]),
    ("/slo/new", ["name", "objective", "window_days", "latency_threshold_ms", "owner",
                  "good_query", "total_query", "service"]),
    ("/tenants/{tenant}/schedules", ["kind", "fmt", "cadence", "email"]),
    ("/tenants/{tenant}/reports", ["kind", "fmt", "start", "end"]),
    ("/oncall/silences/new", ["comment", "hours", "incident_id"]),
]


def _get_rules(app):
    return sorted((r for r in app.url_map.iter_rules()
                   if "GET" in r.methods and r.endpoint != "static"), key=lambda r: r.rule)


def _url(rule, tenant_slug: str, hostile_arg: str | None = None, value: str = "") -> str:
    def fill(match):
        converter, name = (match.group(1) or ""), match.group(2)
        if name == hostile_arg:
            return re.sub(r"[/?#]", "_", value) or "_"
        return "1" if converter.startswith("int") else tenant_slug
    return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule)


def _assert_not_500(response, what):
    assert response.status_code < 500, (what, response.status_code,
                                        response.get_data(as_text=True)[:300])


@pytest.fixture
def viewer_tenant(make_tenant):
    return make_tenant()


@pytest.fixture(params=["admin", "tenant_viewer"])
def signed_in(request, client, login_as, viewer_tenant):
    login_as(request.param, tenant=viewer_tenant if request.param == "tenant_viewer" else None)
    return client, viewer_tenant.slug


def test_nul_in_a_slug_is_a_clear_400(client, login_as, make_tenant):
    tenant = make_tenant()
    login_as("admin")
    response = client.get(f"/tenants/{tenant.slug}%00")
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


def test_nul_in_a_form_value_is_a_clear_400(client, login_as):
    login_as("admin")
    response = client.post_form("/incidents/declare", {"title": "db\x00down",
                                                       "severity": "sev2"})
    assert response.status_code == 400
    assert "title" in response.get_data(as_text=True)


def test_ids_beyond_integer_range_are_not_found(client, login_as, make_tenant):
    tenant = make_tenant()
    login_as("admin")
    assert client.get(f"/tenants/{tenant.slug}/reports/{HUGE}").status_code == 404
    assert client.get(f"/incidents/{2**31}").status_code == 404
    assert client.get("/slo/" + "9" * 5000).status_code == 404


def test_cursors_beyond_integer_range_are_a_400(client, login_as):
    login_as("admin")
    response = client.get(f"/admin/audit?before={HUGE}")
    assert response.status_code == 400
    assert str(INT4_MAX) in response.get_data(as_text=True)
    assert client.get(f"/admin/audit?before={INT4_MAX}").status_code == 200


def test_latency_threshold_beyond_range_is_refused(client, login_as):
    login_as("admin")
    response = client.post_form("/slo/new", {"latency_threshold_ms": "3000000000"})
    assert response.status_code == 400
    assert "latency_threshold_ms" in response.get_data(as_text=True)


def test_converter_bounds():
    converter = PgIntConverter(None)
    assert converter.to_python(str(INT4_MAX)) == INT4_MAX
    for value in (str(INT4_MAX + 1), "9" * 5000):
        with pytest.raises(ValidationError):
            converter.to_python(value)


def test_database_range_errors_are_a_400_not_a_500(app, client):
    @app.get("/__range-probe")
    def _probe():
        db.session.execute(select(cast(literal(2**40), Integer)))
        return "unreachable"

    response = client.get("/__range-probe")
    assert response.status_code == 400
    assert "not acceptable" in response.get_data(as_text=True)


@pytest.mark.parametrize("address, ok", [
    ("ops@acme.example", True), ('"><img/src=x/onerror=alert(1)>@x.example', False),
    ("a\x00b@x.example", False), ("ops@exa mple.com", False), ("x", False)])
def test_email_check(address, ok):
    assert is_email(address) is ok


def test_report_schedule_refuses_markup_in_the_address(client, login_as, make_tenant):
    tenant = make_tenant()
    login_as("admin")
    response = client.post_form(f"/tenants/{tenant.slug}/schedules", {
        "kind": "usage", "fmt": "csv", "cadence": "weekly",
        "email": '"><img/src=x/onerror=alert(1)>@x.example'})
    assert response.status_code == 422
    assert "<img/src=x" not in response.get_data(as_text=True)


def test_every_get_route_survives_the_corpus(app, signed_in):
    client, slug = signed_in
    for rule in _get_rules(app):
        args = list(rule.arguments) or [None]
        for value in CORPUS[:6]:
            for arg in args:
                url = _url(rule, slug, arg, value)
                _assert_not_500(client.get(url, query_string={"before": value, "q": value}),
                                url)


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_property_no_500_on_hostile_get_and_form_input(app, signed_in, data):
    client, slug = signed_in
    rules = _get_rules(app)
    rule = data.draw(st.sampled_from(rules), label="rule")
    arg = data.draw(st.sampled_from(sorted(rule.arguments) or [None]), label="arg")
    value = data.draw(hostile, label="value")
    params = {data.draw(st.sampled_from(QUERY_NAMES), label="param"): data.draw(hostile)}
    url = _url(rule, slug, arg, value)
    _assert_not_500(client.get(url, query_string=params), (url, params))
    form_url, fields = data.draw(st.sampled_from(FORMS), label="form")
    form = {field: data.draw(hostile) for field in
            data.draw(st.lists(st.sampled_from(fields), min_size=1, unique=True))}
    target = form_url.format(tenant=slug)
    _assert_not_500(client.post_form(target, form), (target, form))
