"""The shared building blocks on their own: time zones, health answers, trailing slashes."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.dialects import mysql, postgresql

from common.config import ServiceSettings
from common.db import UTCDateTime
from common.http import health_response, install_http_conventions


@pytest.mark.parametrize("dialect", [mysql.dialect(), postgresql.dialect()], ids=["mysql", "postgresql"])
def test_utc_datetime_stores_utc_and_reads_back_aware(dialect):
    column = UTCDateTime()
    paris_noon = datetime(2026, 11, 29, 12, 0, tzinfo=timezone(timedelta(hours=1)))

    stored = column.process_bind_param(paris_noon, dialect)
    read = column.process_result_value(stored.replace(tzinfo=None) if stored.tzinfo else stored, dialect)

    assert read == datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
    assert read.tzinfo is UTC


def test_utc_datetime_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        UTCDateTime().process_bind_param(datetime(2026, 11, 29, 12, 0), mysql.dialect())


@pytest.mark.parametrize(
    ("checks", "status_code", "status"),
    [
        ({"database": True, "broker": True}, 200, "ok"),
        ({"database": True, "broker": False}, 200, "degraded"),
        ({"database": False, "broker": True}, 503, "unavailable"),
    ],
)
def test_health_is_503_only_when_a_required_check_fails(checks, status_code, status):
    response = health_response("svc", checks, optional=frozenset({"broker"}))

    assert response.status_code == status_code
    assert json.loads(bytes(response.body))["status"] == status


def test_paths_answer_with_and_without_a_trailing_slash_and_never_redirect():
    app = FastAPI()
    app.state.settings = ServiceSettings()
    install_http_conventions(app)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict:
        return {"id": thing_id}

    client = TestClient(app)
    for path in ("/things/7", "/things/7/", "/things/7//"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.json()) == (200, {"id": 7}), path
    assert client.get("/missing/", follow_redirects=False).status_code == 404
