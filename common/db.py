"""Database access shared by the services: one engine per process, one short session per piece of work.

A session is opened in the worker thread that does the work and closed before that thread is
given back, so no connection is ever held while a request waits on something else (another
service, the password hasher, a slow client). The pool has one connection for each worker
thread plus one for each background worker, so a thread never waits for a connection held by
a request that waits for a thread.
"""

import logging
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar, cast

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import DateTime, Engine, create_engine, event, make_url, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from starlette.types import ExceptionHandler

from common.telemetry import tracer, tracing_enabled

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A request that cannot have a connection within this long is refused (503) rather than queued.
POOL_TIMEOUT_SECONDS = 1.0
# Under MySQL's default wait_timeout, so the server never drops a connection the pool still trusts.
POOL_RECYCLE_SECONDS = 1800


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back time-zone aware.

    MySQL's DATETIME keeps no zone, so the zone is dropped on the way in (after converting to
    UTC) and put back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name in ("mysql", "mariadb") else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _connect_args(url: str, tls_ca_file: Path | None) -> dict:
    """TLS for PyMySQL, chosen on purpose: one shared verifying context, or none.

    Left to itself PyMySQL builds a new SSL context (loading the system CA store) for every
    connection and negotiates TLS whenever the server offers it. PostgreSQL's TLS is libpq's,
    set by `sslmode` in the URL.
    """
    if make_url(url).get_driver_name() != "pymysql":
        return {}
    if tls_ca_file is None:
        return {"ssl_disabled": True}
    return {"ssl": ssl.create_default_context(cafile=str(tls_ca_file))}


def create_db_engine(url: str, pool_size: int, tls_ca_file: Path | None = None) -> Engine:
    # No overflow: connections opened past the pool would be closed again on return, so a busy
    # service would open (and handshake) a connection per request. No pre-ping either: it costs a
    # round trip per checkout; a connection found dead on first use is retried by `Database.run`.
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_recycle=POOL_RECYCLE_SECONDS,
        connect_args=_connect_args(url, tls_ca_file),
    )


def trace_statements(engine: Engine) -> None:
    """A span for each SQL statement on `engine`, inside the request or event that runs it.

    The statement's text is recorded with its placeholders, never the values bound to them.
    """
    if not tracing_enabled():
        return
    attributes = {"db.system.name": engine.dialect.name, "db.namespace": engine.url.database or ""}

    def start(conn, cursor, statement: str, parameters, context, executemany: bool) -> None:
        if context is None or not trace.get_current_span().get_span_context().is_valid:
            return
        operation = statement.split(None, 1)[0].upper() if statement.strip() else "SQL"
        context.statement_span = tracer().start_span(
            operation,
            kind=SpanKind.CLIENT,
            attributes={**attributes, "db.operation.name": operation, "db.query.text": statement},
        )

    def end(conn, cursor, statement: str, parameters, context, executemany: bool) -> None:
        span = getattr(context, "statement_span", None)
        if span is not None:
            span.end()

    def fail(exception_context: ExceptionContext) -> None:
        span = getattr(exception_context.execution_context, "statement_span", None)
        if span is not None:
            span.set_status(StatusCode.ERROR, type(exception_context.original_exception).__name__)
            span.end()

    event.listen(engine, "before_cursor_execute", start)
    event.listen(engine, "after_cursor_execute", end)
    event.listen(engine, "handle_error", fail)


class Database:
    """A service's engine and session factory, opened in its lifespan and disposed at shutdown."""

    def __init__(self, url: str, worker_threads: int, background_workers: int, tls_ca_file: Path | None) -> None:
        self.worker_threads = worker_threads
        self.engine = create_db_engine(url, worker_threads + background_workers, tls_ca_file)
        trace_statements(self.engine)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.session_factory, "before_commit", _mark_commit_started)
        # A read needs no transaction. psycopg2 opens one with a round trip of its own (BEGIN) and
        # ends it with another (ROLLBACK); in autocommit mode it sends neither, and switching mode
        # is local to the client. PyMySQL sends nothing to begin, and switching would cost a round
        # trip each way, so MySQL reads keep ordinary sessions.
        if self.engine.dialect.name == "postgresql":
            autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._read_session_factory = sessionmaker(autocommit, expire_on_commit=False)
        else:
            self._read_session_factory = self.session_factory

    def limit_worker_threads(self) -> None:
        """Size the process's worker threads to the pool (call from the running event loop)."""
        anyio.to_thread.current_default_thread_limiter().total_tokens = self.worker_threads

    def run(self, work: Callable[[Session], T], read_only: bool = False) -> T:
        """`work(session)` in a session of its own, closed before this returns.

        A connection the database dropped while it sat in the pool (a restart, a failover) fails
        on first use, and the pool discards it and its peers; the work then runs once more on a
        new connection, provided it had not begun to commit. `read_only` work must not write.
        """
        factory = self._read_session_factory if read_only else self.session_factory
        try:
            return self._run_once(factory, work)
        except DBAPIError as exc:
            if not exc.connection_invalidated or getattr(exc, "commit_started", True):
                raise
            logger.warning("A pooled database connection was dead; retrying on a new one")
        return self._run_once(factory, work)

    async def run_in_thread(self, work: Callable[[Session], T], read_only: bool = False) -> T:
        """`run(work)` on a worker thread, for async endpoints."""
        return await anyio.to_thread.run_sync(self.run, work, read_only)

    @staticmethod
    def _run_once(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
        with factory() as session:
            try:
                return work(session)
            except DBAPIError as exc:
                exc.commit_started = session.info.get("commit_started", False)  # type: ignore[attr-defined]
                raise

    def is_reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _mark_commit_started(session: Session) -> None:
    session.info["commit_started"] = True


async def database_unavailable_handler(request: Request, exc: OperationalError) -> JSONResponse:
    logger.warning("Database unavailable on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
    return JSONResponse({"detail": "Database is unavailable"}, status_code=503, headers={"Retry-After": "1"})


async def database_busy_handler(request: Request, exc: PoolTimeoutError) -> JSONResponse:
    logger.warning("No database connection free on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"detail": "Service is at capacity; retry shortly"}, status_code=503, headers={"Retry-After": "1"}
    )


def install_database_error_handlers(app: FastAPI) -> None:
    """A database that is away, or a pool with no connection free, is a 503 the client may retry."""
    # Starlette types every handler as taking any Exception; each of these is registered for its own class.
    app.add_exception_handler(OperationalError, cast(ExceptionHandler, database_unavailable_handler))
    app.add_exception_handler(PoolTimeoutError, cast(ExceptionHandler, database_busy_handler))
