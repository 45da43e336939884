"""PORTAL_ENV=production refuses to start with unset or published default secrets and says
which; development keeps working and shows a demo banner."""
import pytest

from portal.app import create_app
from portal.config import from_env
from portal.security.production import InsecureConfiguration

STRONG = "k" * 16 + "9f3c2a7b1e5d4c6a8b0f2e4d6c8a0b2e"


def _env(base_config, **overrides) -> dict:
    return {**base_config, "PORTAL_ENV": "production", "SECRET_KEY": STRONG, **overrides}


@pytest.mark.parametrize("overrides, named", [
    ({"SECRET_KEY": None}, "SECRET_KEY is unset"),
    ({"SECRET_KEY": "change-me-in-production"}, "SECRET_KEY is a known default"),
    ({"SECRET_KEY": "test-secret"}, "SECRET_KEY is a known default"),
    ({"SECRET_KEY": "short-but-random-9f3c"}, "shorter than 32"),
    ({"ALERTMANAGER_WEBHOOK_TOKEN": "change-me-webhook-token"},
     "ALERTMANAGER_WEBHOOK_TOKEN is a known default"),
    ({"ARGOCD_TOKEN": "secret"}, "ARGOCD_TOKEN is a known default"),
    ({"CELERY_BROKER_URL": "amqp://guest:guest@rabbit:5672//"},
     "CELERY_BROKER_URL carries a known default password"),
])
def test_production_refuses_weak_secrets_and_names_them(base_config, overrides, named):
    with pytest.raises(InsecureConfiguration) as excinfo:
        create_app(_env(base_config, **overrides))
    assert named in str(excinfo.value)


def test_production_names_every_problem_at_once(base_config):
    with pytest.raises(InsecureConfiguration) as excinfo:
        create_app(_env(base_config, SECRET_KEY="change-me-in-production",
                        ALERTMANAGER_WEBHOOK_TOKEN="change-me-webhook-token"))
    assert "SECRET_KEY" in str(excinfo.value)
    assert "ALERTMANAGER_WEBHOOK_TOKEN" in str(excinfo.value)


def test_environment_secrets_of_libraries_are_checked(base_config, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "meridian-secret")
    with pytest.raises(InsecureConfiguration, match="AWS_SECRET_ACCESS_KEY"):
        create_app(_env(base_config))


def test_production_with_strong_secrets_starts_without_banner(base_config):
    app = create_app(_env(base_config, ALERTMANAGER_WEBHOOK_TOKEN="x" * 40,
                          CELERY_BROKER_URL="memory://"))
    with app.test_client() as client:
        page = client.get("/login").get_data(as_text=True)
    assert "Demo environment" not in page


def test_production_never_falls_back_to_a_generated_key(tmp_path):
    settings = from_env({"PORTAL_ENV": "production", "INSTANCE_DIR": str(tmp_path)})
    assert settings["SECRET_KEY"] is None and not (tmp_path / "secret_key").exists()
    assert from_env({"INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]


def test_development_shows_the_demo_banner(client):
    assert "Demo environment" in client.get("/login").get_data(as_text=True)
