"""SERVICE_ENV=production: a service refuses to start with an unset or documented default
secret and names each one; development keeps the defaults working."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from platform_services.auth.api import build as build_auth
from platform_services.auth.settings import AuthSettings
from platform_services.billing.api import build as build_billing
from platform_services.billing.settings import BillingSettings
from platform_services.common import secrets_check
from platform_services.common import settings as service_settings
from platform_services.common.config import ServiceConfig, from_env
from platform_services.notification.api import build as build_notification
from platform_services.notification.settings import NotificationSettings

STRONG = "b3c1e0f4a9d27c5e8f1a6b0d4c3e2f1a"
# Unreachable on purpose: the check must refuse before anything connects.
DB = f"postgresql+psycopg://meridian:{STRONG}@127.0.0.1:1/meridian"


def _config(service: str, environment: str = "production", **values) -> ServiceConfig:
    return ServiceConfig(**{"service": service, "database_url": DB,
                            "environment": environment, **values})


def test_production_names_every_default_secret_of_each_service():
    cases = [
        (build_billing, "billing", BillingSettings(),
         ["STRIPE_API_KEY is the documented default",
          "STRIPE_WEBHOOK_SECRET is the documented default"]),
        (build_notification, "notification", NotificationSettings(),
         ["NOTIFY_WEBHOOK_SECRET is the documented default"]),
        (build_auth, "auth", AuthSettings(vault_token="dev-root"),
         ["VAULT_TOKEN is a known example value", "AUTH_EMAIL_PEPPER is the documented default",
          "AUTH_ADMIN_TOKEN is unset"]),
    ]
    for build, service, settings, expected in cases:
        with pytest.raises(secrets_check.InsecureConfiguration) as refused:
            build(_config(service), log=False, settings=settings)
        message = str(refused.value)
        assert message.startswith(f"refusing to start {service} in production: ")
        assert all(line in message for line in expected), message


def test_shared_settings_are_checked_for_every_service():
    config = _config("order", database_url="postgresql://meridian:meridian@db/meridian",
                     rabbitmq_url="amqp://guest:guest@mq:5672/", client_secret="changeme")
    found = secrets_check.problems(config, environ={"AWS_SECRET_ACCESS_KEY": "meridian-secret"})
    assert found == ["DATABASE_URL carries a known default password",
                     "RABBITMQ_URL carries a known default password",
                     "SERVICE_CLIENT_SECRET is a known example value",
                     "AWS_SECRET_ACCESS_KEY is a known example value"]
    with pytest.raises(secrets_check.InsecureConfiguration, match="DATABASE_URL"):
        secrets_check.require_safe(config, environ={})


def test_production_with_real_secrets_passes_and_development_keeps_the_defaults():
    strong = [BillingSettings(stripe_api_key="sk_live_" + STRONG,
                              stripe_webhook_secret="whsec_" + STRONG),
              NotificationSettings(webhook_secret=STRONG),
              AuthSettings(email_pepper=STRONG, admin_token=STRONG)]
    secrets_check.require_safe(_config("billing"), *strong, environ={})
    secrets_check.require_safe(_config("billing", "development"), BillingSettings(),
                               AuthSettings(), environ={})


def test_the_environment_variables_switch_production_on():
    environ = {"DATABASE_URL": DB, "SERVICE_ENV": "production",
               "STRIPE_WEBHOOK_SECRET": "whsec_meridian_local",
               "STRIPE_API_KEY": "sk_live_" + STRONG}
    config = from_env("billing", environ)
    settings = service_settings.load(BillingSettings, environ)
    with pytest.raises(secrets_check.InsecureConfiguration) as refused:
        secrets_check.require_safe(config, settings, environ=environ)
    assert "STRIPE_WEBHOOK_SECRET" in str(refused.value)
    assert "STRIPE_API_KEY" not in str(refused.value)


def test_an_unknown_environment_is_refused_rather_than_taken_for_development():
    with pytest.raises(ValueError, match="invalid SERVICE_ENV 'prod'"):
        secrets_check.require_safe(_config("order", "prod"), environ={})


def test_the_service_process_exits_naming_the_secrets_to_set():
    env = {**os.environ, "DATABASE_URL": DB, "SERVICE_ENV": "production", "SERVICE_PORT": "0",
           "STRIPE_API_KEY": "sk_live_" + STRONG}
    env.pop("STRIPE_WEBHOOK_SECRET", None)
    done = subprocess.run([sys.executable, "-m", "platform_services", "serve", "billing"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "InsecureConfiguration: refusing to start billing in production: " \
           "STRIPE_WEBHOOK_SECRET is the documented default" in done.stderr
