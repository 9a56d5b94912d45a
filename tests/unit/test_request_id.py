import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.config import ServiceSettings
from common.http import install_http_conventions
from common.request_id import RequestIdLogFilter, current_request_id


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.state.settings = ServiceSettings()
    install_http_conventions(app)

    @app.get("/echo")
    async def echo() -> dict:
        return {"seen": current_request_id.get()}

    return TestClient(app)


def test_a_sane_incoming_id_is_kept_and_returned(client):
    response = client.get("/echo", headers={"X-Request-ID": "client-42.a_b"})

    assert response.headers["x-request-id"] == "client-42.a_b"
    assert response.json() == {"seen": "client-42.a_b"}


@pytest.mark.parametrize("incoming", [None, "", "x" * 65, "has space", "semi;colon"])
def test_a_missing_or_unsafe_id_is_replaced_by_a_new_one(client, incoming):
    headers = {} if incoming is None else {"X-Request-ID": incoming}

    response = client.get("/echo", headers=headers)

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert response.json() == {"seen": response.headers["x-request-id"]}


def test_log_records_carry_the_current_id():
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "message", None, None)
    token = current_request_id.set("abc")
    try:
        RequestIdLogFilter().filter(record)
    finally:
        current_request_id.reset(token)

    assert record.__dict__["request_id"] == "abc"
