"""The notification service's SMS settings: a provider needs all of its settings, the
tokens never show in a repr, and production refuses an example token."""
import pytest

from platform_services.common import secrets_check
from platform_services.common import settings as service_settings
from platform_services.common.config import ServiceConfig
from platform_services.notification import sms
from platform_services.notification.settings import NotificationSettings

STRONG = "b3c1e0f4a9d27c5e8f1a6b0d4c3e2f1a"
PRIMARY = {"SMS_PRIMARY_ACCOUNT_SID": "AC" + "1" * 32, "SMS_PRIMARY_AUTH_TOKEN": STRONG,
           "SMS_PRIMARY_FROM": "+15017122661"}


def test_providers_in_failover_order_and_only_complete_ones():
    settings = service_settings.load(NotificationSettings, {
        **PRIMARY, "SMS_BACKUP_URL": "https://api.backup.example/",
        "SMS_BACKUP_ACCOUNT_SID": "AC" + "2" * 32, "SMS_BACKUP_AUTH_TOKEN": STRONG[::-1],
        "SMS_BACKUP_FROM": "+15017122662", "SMS_RETRIES": "2"})
    primary, backup = sms.providers(settings)
    assert (primary.role, primary.url, primary.relay) == (
        "primary", "https://api.twilio.com", "primary:api.twilio.com")
    assert (backup.role, backup.url) == ("backup", "https://api.backup.example")
    assert settings.sms_retries == 2
    assert STRONG not in repr(settings) and STRONG not in repr(primary)
    half = service_settings.load(NotificationSettings, {**PRIMARY, "SMS_PRIMARY_FROM": ""})
    assert sms.providers(half) == []


@pytest.mark.parametrize("token, named", [("token", "a known example value"),
                                          ("changeme", "a known example value")])
def test_production_refuses_an_example_sms_token(token, named):
    config = ServiceConfig(service="notification", database_url="postgresql://db/x",
                           environment="production")
    settings = NotificationSettings(webhook_secret=STRONG, sms_primary_auth_token=token,
                                    sms_backup_auth_token=token)
    with pytest.raises(secrets_check.InsecureConfiguration) as refused:
        secrets_check.require_safe(config, settings, environ={})
    assert f"SMS_PRIMARY_AUTH_TOKEN is {named}" in str(refused.value)
    assert f"SMS_BACKUP_AUTH_TOKEN is {named}" in str(refused.value)
    secrets_check.require_safe(config, NotificationSettings(
        webhook_secret=STRONG, sms_primary_auth_token=STRONG), environ={})
