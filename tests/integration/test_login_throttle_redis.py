"""Login throttling on real Redis: failures counted once for every portal process."""
import secrets

import pytest
import redis

from portal.app import create_app
from portal.extensions import db
from tests.conftest import REDIS_URL, PortalClient

pytestmark = pytest.mark.integration


def test_failed_logins_are_counted_across_processes_in_redis(base_config, connection, make_user):
    prefix = f"portal-test-{secrets.token_hex(4)}"
    config = dict(base_config, REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL,
                  RATELIMIT_KEY_PREFIX=prefix, LOGIN_RATE_LIMIT="3 per minute")
    apps = [create_app(dict(config)) for _ in range(2)]  # two portal processes
    for app in apps:
        db.bind_to(app, connection)
        app.test_client_class = PortalClient
    user = make_user("developer")
    first, second = (app.test_client() for app in apps)
    codes = [client.post_form("/login", {"email": user.email, "password": "bad"}).status_code
             for client in (first, second, first, second)]
    assert codes == [401, 401, 401, 429]

    keys = redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
    assert keys, "the limiter did not use Redis"
    redis.Redis.from_url(REDIS_URL).delete(*keys)
    for app in apps:
        app.extensions["portal_db"].engine.dispose()
