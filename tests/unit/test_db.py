"""The shared database setup without a server: the pool's limits, TLS for PyMySQL, and the 503s for a database away."""

import inspect
import ssl
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pymysql
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import QueuePool

from common.db import (
    POOL_RECYCLE_SECONDS,
    POOL_TIMEOUT_SECONDS,
    UTCDateTime,
    _connect_args,
    create_db_engine,
    install_database_error_handlers,
)

MYSQL_URL = "mysql+pymysql://user:secret@db.internal:3306/tasks"
# Any bundle of CA certificates will do: the context is only built, never used to connect.
CA_FILE = Path(ssl.get_default_verify_paths().openssl_cafile)


def test_pymysql_is_told_to_use_no_tls_unless_given_a_ca():
    assert _connect_args(MYSQL_URL, None) == {"ssl_disabled": True}


def test_pymysql_gets_one_verifying_context_for_the_given_ca():
    if not CA_FILE.is_file():
        pytest.skip(f"no CA bundle at {CA_FILE}")

    args = _connect_args(MYSQL_URL, CA_FILE)

    assert list(args) == ["ssl"]
    assert args["ssl"].verify_mode == ssl.CERT_REQUIRED
    assert args["ssl"].check_hostname is True
    assert args["ssl"].get_ca_certs()
    # Names PyMySQL takes: another would fail only when the first connection is made.
    inspect.signature(pymysql.connections.Connection).bind_partial(**args)


def test_postgresqls_tls_is_left_to_the_url():
    assert _connect_args("postgresql+psycopg2://user:secret@db.internal/auth?sslmode=verify-full", CA_FILE) == {}


def test_the_pool_has_a_fixed_size_a_short_wait_and_recycles_connections(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1)
    try:
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.size() == 1
        assert engine.pool.timeout() == POOL_TIMEOUT_SECONDS
        assert engine.pool._recycle == POOL_RECYCLE_SECONDS
        with engine.connect(), pytest.raises(PoolTimeoutError):
            # No overflow: with the only connection taken, the next one waits, then is refused.
            engine.connect()
    finally:
        engine.dispose()


def test_timestamps_keep_their_zone_in_postgresql_and_microseconds_in_mysql():
    column = UTCDateTime()

    assert column.load_dialect_impl(postgresql.dialect()).timezone is True
    assert column.load_dialect_impl(mysql.dialect()).fsp == 6


def test_a_timestamp_goes_to_postgresql_with_its_zone_and_to_mysql_without():
    column = UTCDateTime()
    paris_noon = datetime(2026, 11, 29, 12, 0, tzinfo=timezone(timedelta(hours=1)))

    to_postgresql = column.process_bind_param(paris_noon, postgresql.dialect())
    to_mysql = column.process_bind_param(paris_noon, mysql.dialect())

    # A naive value would be read in the session's time zone, whatever it is.
    assert (to_postgresql, to_postgresql.tzinfo) == (datetime(2026, 11, 29, 11, 0, tzinfo=UTC), UTC)
    assert (to_mysql, to_mysql.tzinfo) == (datetime(2026, 11, 29, 11, 0), None)


def app_raising(error: Exception) -> TestClient:
    app = FastAPI()
    install_database_error_handlers(app)

    @app.get("/work")
    async def work() -> dict:
        raise error

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (OperationalError("SELECT 1", {}, ConnectionRefusedError("refused")), "Database is unavailable"),
        (PoolTimeoutError("QueuePool limit of size 1 overflow 0 reached"), "Service is at capacity; retry shortly"),
    ],
    ids=["database-away", "pool-exhausted"],
)
def test_a_database_away_or_a_pool_with_no_connection_free_is_a_503_to_retry(error, detail):
    response = app_raising(error).get("/work")

    assert response.status_code == 503
    assert response.json() == {"detail": detail}
    assert response.headers["retry-after"] == "1"
