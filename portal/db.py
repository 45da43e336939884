"""Database plumbing: the declarative base, the per-request session, tenant scoping.

Tenant scoping is enforced here, below every service function: when a session carries a
`tenant_id` in its `info`, every ORM SELECT of a `TenantScoped` model is filtered to that
tenant, so a view that forgets a check still cannot read another tenant's rows.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection, DateTime, MetaData, create_engine, event, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)

_SESSION_KEY = "portal.db_session"
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def rows_version_sql(*tables: str | tuple[str, str]) -> str:
    """SQL of one text value that changes with any insert, update or delete in `tables`
    (a name, or (name, WHERE clause) for part of a table): per table, the row count and the
    sum of the rows' transaction ids (xmin). It changes in the writing transaction at once
    and for every other one when that commits, so caches keyed by it are exact in every
    process with no invalidation; transaction ids only grow, so a rolled-back change never
    brings an old value back."""
    parts = []
    for table in tables:
        name, where = (table, "") if isinstance(table, str) else table
        parts.append(f"(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) "
                     f"FROM {name}{' ' + where if where else ''})")
    return " || '/' || ".join(parts)


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every stored timestamp is timestamptz."""
    return datetime.now(UTC)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now())


class TenantScoped:
    """Mixin for rows that belong to one tenant.

    Subclasses expose the owning tenant's id as the class attribute `tenant_key`
    (a column, or a synonym for `id` on the tenants table itself).
    """


def _tenant_scoped_classes() -> list[Any]:  # mapped classes; each declares its tenant_key
    return [m.class_ for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)]


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    tenant_id = state.session.info.get("tenant_id")
    if tenant_id is None or not state.is_select:
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the top-level criteria already propagates to these loads
    # One criterion per concrete class (a lambda on the mixin would be evaluated against
    # the mixin itself, which has no column).
    state.statement = state.statement.options(*(
        with_loader_criteria(cls, cls.tenant_key == tenant_id, include_aliases=True)
        for cls in _tenant_scoped_classes()))


@dataclass
class _AppDatabase:
    engine: Engine
    factory: sessionmaker[Session]


class Database:
    """The Flask extension owning each app's engine and its request-scoped session.

    State lives on the app (not on this shared object), so several apps in one process,
    as in the test suite, never share an engine or a session factory.
    """

    def init_app(self, app: Flask) -> None:
        engine = create_engine(app.config["DATABASE_URL"], pool_pre_ping=True,
                               pool_size=10, max_overflow=10)
        app.extensions["portal_db"] = _AppDatabase(
            engine, sessionmaker(bind=engine, expire_on_commit=False))
        app.teardown_request(self._close)
        app.teardown_appcontext(self._close)

    @staticmethod
    def _state() -> _AppDatabase:
        return current_app.extensions["portal_db"]

    @property
    def engine(self) -> Engine:
        return self._state().engine

    @staticmethod
    def bind_to(app: Flask, connection: Connection) -> None:
        """Make `app`'s sessions join `connection`'s outer transaction (tests roll it back)."""
        app.extensions["portal_db"].factory = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")

    @staticmethod
    def _holder() -> dict:
        # A request gets its own session even when an app context outlives it (tests,
        # CLI); outside requests (tasks, shell) the app context holds it.
        if has_request_context():
            return request.environ.setdefault(_SESSION_KEY, {})
        return g.setdefault(_SESSION_KEY, {})

    @property
    def session(self) -> Session:
        """The session of the current request (or app context), created on first use."""
        holder = self._holder()
        if "session" not in holder:
            holder["session"] = self._state().factory()
        return holder["session"]

    def current(self) -> Session | None:
        """The session already opened in this request or app context, if any."""
        return self._holder().get("session")

    def discard(self, *, rollback: bool) -> None:
        """Close the current session, rolling back first when asked."""
        session = self._holder().pop("session", None)
        if session is not None:
            if rollback:
                session.rollback()
            session.close()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A unit of work for tasks and CLI commands: commit on success, roll back on error."""
        session = self._state().factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _close(self, exc: BaseException | None) -> None:
        self.discard(rollback=exc is not None)
