"""Secret rotation against a real OpenBao: ages come from KV v2 metadata only, overdue
secrets fail the readiness check and show on the service page and the fleet page."""
from __future__ import annotations

import json
import re
import secrets
import time
from datetime import timedelta

import hvac
import pytest

from portal.catalog import readiness, secrets_rotation
from portal.catalog.secrets_rotation import OwnedSecret, Policy, RotationData
from portal.config import PROJECT_ROOT
from portal.integrations.vault import VaultClient
from tests.servers import closed_port
from tests.unit.slo.factories import make_service

pytestmark = pytest.mark.integration


@pytest.fixture
def bao(openbao):
    """A root hvac client and a per-test folder, so tests never see each other's secrets."""
    client = hvac.Client(url=openbao["addr"], token=openbao["token"])
    return client, f"t{secrets.token_hex(3)}"


SECRET_VALUE = "s3cr3t-value-never-shown"


def _write(client, path: str, versions: int = 1) -> None:
    for n in range(versions):
        client.secrets.kv.v2.create_or_update_secret(
            path=path, secret={"value": f"{SECRET_VALUE}-{n}"}, mount_point="secret")


def _rotation_file(tmp_path, owner: str, prefix: str, db_age: str = "24h") -> str:
    path = tmp_path / "rotation.yaml"
    path.write_text(f"""
policies:
  - {{pattern: "{prefix}/database/*", max_age: {db_age}}}
  - {{pattern: "{prefix}/api-keys/*", max_age: 90d}}
secrets:
  - {{service: {owner}, path: {prefix}/database/{owner}}}
  - {{service: {owner}, path: {prefix}/api-keys/{owner}}}
""")
    return str(path)


def test_age_is_the_current_versions_creation_and_the_clock_decides_overdue(bao, openbao):
    client, prefix = bao
    _write(client, f"{prefix}/database/order", versions=3)
    vault = VaultClient(openbao["addr"], token=openbao["token"])
    meta = vault.metadata(f"{prefix}/database/order")
    raw = client.secrets.kv.v2.read_secret_metadata(path=f"{prefix}/database/order",
                                                    mount_point="secret")["data"]
    assert meta.current_version == 3
    assert meta.current_version_time.isoformat()[:26] == raw["versions"]["3"]["created_time"][:26]
    assert meta.current_version_time > meta.created_time

    daily = Policy("*/database/*", timedelta(hours=24), "24h")
    data = RotationData((daily,), (OwnedSecret("order", f"{prefix}/database/order", daily),
                                   OwnedSecret("order", f"{prefix}/database/gone", daily)))
    fresh = secrets_rotation.fleet(data=data, client=vault, now=meta.current_version_time
                                   + timedelta(hours=23))
    assert [s.state for s in fresh.statuses] == ["ok", "missing"]
    late = secrets_rotation.fleet(data=data, client=vault, now=meta.current_version_time
                                  + timedelta(hours=24, seconds=1))
    assert late.statuses[0].state == "overdue" and late.statuses[0].version == 3
    status, detail = secrets_rotation.readiness(service_slug="order", found=late)
    assert status == "fail"
    assert f"{prefix}/database/order (policy 24h)" in detail
    assert f"{prefix}/database/gone (not found in Vault)" in detail


def test_only_metadata_is_ever_requested(bao, openbao):
    client, prefix = bao
    _write(client, f"{prefix}/api-keys/billing")
    vault = VaultClient(openbao["addr"], token=openbao["token"])
    quarterly = Policy("*", timedelta(days=90), "90d")
    secrets_rotation.fleet(data=RotationData((quarterly,), (
        OwnedSecret("billing", f"{prefix}/api-keys/billing", quarterly),)), client=vault)
    time.sleep(0.2)  # the audit device writes asynchronously to its file
    paths = [json.loads(line)["request"]["path"]
             for line in openbao["audit_log"].read_text().splitlines()
             if '"type":"request"' in line and prefix in line]
    portal_reads = [p for p in paths if p.startswith("secret/") and "api-keys/billing" in p]
    assert "secret/metadata/" + f"{prefix}/api-keys/billing" in portal_reads
    # The test itself wrote through data/ once; the portal's reads never touch it.
    assert portal_reads.count(f"secret/data/{prefix}/api-keys/billing") == 1


def test_approle_login_reads_metadata(bao, openbao):
    client, prefix = bao
    _write(client, f"{prefix}/database/auth")
    if "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    client.sys.create_or_update_policy(
        name="portal-metadata",
        policy='path "secret/metadata/*" { capabilities = ["read", "list"] }')
    client.auth.approle.create_or_update_approle(role_name="portal",
                                                 token_policies=["portal-metadata"])
    role_id = client.auth.approle.read_role_id(role_name="portal")["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id(role_name="portal")["data"]["secret_id"]
    vault = VaultClient(openbao["addr"], role_id=role_id, secret_id=secret_id)
    assert vault.metadata(f"{prefix}/database/auth").current_version == 1


def test_vault_down_or_refusing_is_a_message_not_a_failing_check(openbao):
    daily = Policy("*", timedelta(hours=24), "24h")
    data = RotationData((daily,), (OwnedSecret("order", "database/order", daily),))
    down = secrets_rotation.fleet(data=data, client=VaultClient(
        f"http://127.0.0.1:{closed_port()}", token="x", timeout=1))
    assert down.error.startswith("Vault is unreachable")
    refused = secrets_rotation.fleet(data=data, client=VaultClient(openbao["addr"],
                                                                   token="not-a-token"))
    assert "refused" in refused.error
    assert secrets_rotation.readiness(service_slug="order", found=down)[0] == "na"


def test_pages_show_overdue_secrets_and_readiness_fails(app, client, login_as, session, bao,
                                                        openbao, tmp_path):
    client_, prefix = bao
    svc = make_service(session)
    session.commit()
    app.config.update(VAULT_ADDR=openbao["addr"], VAULT_TOKEN=openbao["token"],
                      SECRET_ROTATION_FILE=_rotation_file(tmp_path, svc.slug, prefix, "1s"))
    _write(client_, f"{prefix}/database/{svc.slug}")
    _write(client_, f"{prefix}/api-keys/{svc.slug}")
    time.sleep(1.1)  # the 1-second policy of the database secret runs out
    card = readiness.evaluate(session=session, service=svc)
    result = next(r for r in card.results if r.check.id == "secrets-rotated")
    assert result.status == "fail" and f"{prefix}/database/{svc.slug}" in result.detail

    login_as("developer")
    fleet_page = client.get("/catalog/secrets").get_data(as_text=True)
    assert re.search(rf'data-path="{prefix}/database/{svc.slug}" data-state="overdue"',
                     fleet_page)
    assert re.search(rf'data-path="{prefix}/api-keys/{svc.slug}" data-state="ok"', fleet_page)
    assert "at most 1s" in fleet_page and SECRET_VALUE not in fleet_page
    page = client.get(f"/catalog/services/{svc.slug}").get_data(as_text=True)
    assert 'id="secrets-overdue">1 overdue' in page
    assert "Secrets rotated within policy" in page


def test_unconfigured_vault_says_so_and_the_check_is_not_applicable(app, client, login_as,
                                                                    session):
    svc = make_service(session)
    session.commit()
    app.config.update(VAULT_ADDR=None)
    card = readiness.evaluate(session=session, service=svc)
    assert next(r for r in card.results if r.check.id == "secrets-rotated").status == "na"
    login_as("oncall")
    page = client.get("/catalog/secrets")
    assert page.status_code == 200 and "VAULT_ADDR is unset" in page.get_data(as_text=True)


@pytest.mark.parametrize("roles,status", [(("tenant_viewer",), 403), (("manager",), 200)])
def test_who_may_see_the_fleet_page(client, login_as, roles, status):
    login_as(*roles)
    assert client.get("/catalog/secrets").status_code == status


def test_rotation_file_rejects_bad_ages(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies:\n  - {pattern: '*', max_age: 0d}\n")
    with pytest.raises(secrets_rotation.RotationDataError):
        secrets_rotation.load(bad)
    data = secrets_rotation.load(PROJECT_ROOT / "infra" / "vault" / "secret-rotation.yaml")
    policies = {s.path: s.policy.max_age for s in data.secrets}
    assert policies["database/order"] == timedelta(hours=24)
    assert policies["api-keys/stripe"] == timedelta(days=90)
