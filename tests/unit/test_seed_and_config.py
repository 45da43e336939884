"""Demo seeding, the CLI, settings from the environment and the README's table of them."""
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from portal import config
from portal.auth.models import User
from portal.catalog.models import Cluster, Dependency, Service
from portal.cli import make_cli
from portal.demo import meridian
from portal.demo.seed import seed_demo
from portal.tenants.models import Tenant
from tests.conftest import FAST_ARGON2


def counts(session):
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Tenant, User, Service, Dependency, Cluster)}


def test_seed_demo_loads_meridian_and_is_idempotent(session):
    seed_demo(session=session, argon2_params=FAST_ARGON2)
    session.commit()
    first = counts(session)
    assert first["Tenant"] >= 36 and first["Cluster"] >= 3
    services = {s.slug: s for s in session.scalars(select(Service))}
    product = [s for s in services.values() if s.kind == "service"]
    assert len(product) == 9  # the eight services plus the API gateway
    assert services["order"].slo_summary.startswith("99.95% availability")
    assert {d.depends_on.slug for d in services["order"].dependencies} == {
        "postgresql", "rabbitmq", "inventory", "redis"}
    roles = {r for u in session.scalars(select(User)) for r in u.roles}
    assert roles == {"tenant_viewer", "developer", "oncall", "manager", "admin"}
    hashes = {u.email: u.password_hash for u in session.scalars(select(User))}
    seed_demo(session=session, argon2_params=FAST_ARGON2)
    session.commit()
    assert counts(session) == first
    assert {u.email: u.password_hash for u in session.scalars(select(User))} == hashes
    assert not session.dirty


def test_cli_seed_demo_prints_credentials(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for email, *_ in meridian.DEMO_USERS:
        assert email in result.output and meridian.demo_password(email) in result.output


def test_cli_create_user_validates_roles(app):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["create-user", "--email", "v@test.example", "--name", "V",
                              "--role", "tenant_viewer", "--password", "pw"])
    assert bad.exit_code != 0 and "must be bound to a tenant" in bad.output


def test_settings_parse_from_environment():
    values = config.from_env({"SECRET_KEY": "k", "SESSION_COOKIE_SECURE": "yes",
                              "MAX_CONTENT_LENGTH": "2048", "DATABASE_URL": ""})
    assert values["SESSION_COOKIE_SECURE"] is True and values["MAX_CONTENT_LENGTH"] == 2048
    assert values["DATABASE_URL"] is None
    with pytest.raises(ValueError, match="invalid SESSION_COOKIE_SECURE"):
        config.from_env({"SECRET_KEY": "k", "SESSION_COOKIE_SECURE": "maybe"})


def test_settings_are_read_from_the_given_environment_only(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert config.PortalSettings().LOG_LEVEL == "INFO"  # built from values: no environment
    assert config.PortalSettings.load({}).LOG_LEVEL == "INFO"
    assert config.PortalSettings.load().LOG_LEVEL == "DEBUG"
    assert config.from_env({"SECRET_KEY": "k"})["LOG_LEVEL"] == "INFO"


def test_readme_configuration_table_is_current():
    """README's table is `portal settings` verbatim; regenerate it when a setting changes."""
    readme = (config.PROJECT_ROOT / "README.md").read_text()
    section = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", readme, re.S)
    assert section, "README lacks the settings markers"
    assert section.group(1) == config.settings_table()


def test_portal_settings_prints_the_table_without_starting_a_database(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    result = CliRunner().invoke(make_cli(), ["settings"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == config.settings_table()
    assert not (tmp_path / "pgdata").exists()
