"""The /oncall/import page: managers and admins only, dry run then apply (CSRF), hostile
input answered with a clear 4xx, and the token never echoed or audited."""
from pathlib import Path

from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.oncall.models import Schedule
from tests.integration.oncall_import.conftest import TOKEN

FIXTURE = Path(__file__).parent / "fixtures" / "oncall.tf"


def test_developer_gets_403(client, login_as):
    login_as("developer")
    assert client.get("/oncall/import").status_code == 403
    assert client.post_form("/oncall/import/dry-run", {"source": "api"}).status_code == 403


def test_dry_run_then_apply_from_the_api(client, login_as, session, fake_oncall):
    login_as("manager")
    assert 'id="import-schedules"' in client.get("/oncall/").get_data(as_text=True)
    response = client.post_form("/oncall/import/dry-run", {
        "source": "api", "url": fake_oncall.url, "token": TOKEN})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    assert TOKEN not in page and response.headers["Cache-Control"] == "no-store"
    assert 'data-created="schedules">2<' in page and "by_month" in page
    assert session.scalar(select(Schedule).where(Schedule.name.like("Primary %"))) is None
    signed = page.split('name="plan" value="')[1].split('"')[0]
    applied = client.post_form("/oncall/import/apply", {"plan": signed})
    assert applied.status_code == 200 and "Imported" in applied.get_data(as_text=True)
    assert session.scalar(select(Schedule).where(Schedule.name.like("Primary %"))) is not None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "oncall.import_apply")
                           .order_by(AuditEntry.id.desc()))
    assert entry.details["created"]["schedules"] == 2 and TOKEN not in str(entry.details)
    # Applying the same plan again creates nothing.
    again = client.post_form("/oncall/import/apply", {"plan": signed})
    assert 'data-created="schedules">0<' in again.get_data(as_text=True)


def test_terraform_upload_dry_run(client, login_as):
    login_as("admin")
    response = client.post("/oncall/import/dry-run", data={
        "csrf_token": client.csrf_token(), "source": "terraform",
        "email_domain": "tf-import.example",
        "files": (FIXTURE.open("rb"), "oncall.tf")}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'data-created="rotations">1<' in response.get_data(as_text=True)


def test_hostile_input_gets_a_clear_4xx(client, login_as):
    login_as("manager")
    internal = client.post_form("/oncall/import/dry-run", {
        "source": "api", "url": "http://169.254.169.254", "token": TOKEN})
    assert internal.status_code == 400
    assert "publicly reachable" in internal.get_data(as_text=True)
    bad_url = client.post_form("/oncall/import/dry-run", {
        "source": "api", "url": "javascript:alert(1)", "token": TOKEN})
    assert bad_url.status_code == 400 and "http(s) URL" in bad_url.get_data(as_text=True)
    nul = client.post_form("/oncall/import/dry-run", {"source": "api", "url": "http://a\x00"})
    assert nul.status_code == 400
    forged = client.post_form("/oncall/import/apply", {"plan": "forged"})
    assert forged.status_code == 400 and "run it again" in forged.get_data(as_text=True)
    assert client.post_form("/oncall/import/dry-run", {"source": "x"}).status_code == 400
    no_csrf = client.post("/oncall/import/apply", data={"plan": "x"})
    assert no_csrf.status_code in (400, 403)
