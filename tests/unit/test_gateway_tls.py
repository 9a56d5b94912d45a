"""The gateway's TLS settings and HSTS header, in process (tests/test_https.py serves HTTPS for real)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api_gateway.config import Settings
from api_gateway.main import create_app
from api_gateway.serve_https import uvicorn_command
from tests.helpers import NOWHERE_URL


def gateway(**settings: Any) -> TestClient:
    config = Settings(
        auth_service_url=NOWHERE_URL, task_service_url=NOWHERE_URL, notification_service_url=NOWHERE_URL, **settings
    )
    return TestClient(create_app(config), base_url="https://testserver")


def test_hsts_over_https_only():
    with gateway() as client:
        assert client.get("/").headers["strict-transport-security"] == "max-age=31536000"
        assert "strict-transport-security" not in client.get("http://testserver/").headers


def test_hsts_from_the_settings():
    with gateway(hsts_max_age_seconds=600, hsts_include_subdomains=True) as client:
        assert client.get("/routes").headers["strict-transport-security"] == "max-age=600; includeSubDomains"


@pytest.mark.parametrize("given", ["gateway_tls_cert_file", "gateway_tls_key_file"])
def test_a_certificate_without_its_key_or_a_key_without_its_certificate_is_refused(given):
    only_one: dict[str, Any] = {given: "certs/localhost.pem"}
    with pytest.raises(ValidationError, match="set both or neither"):
        Settings(**only_one)


def test_the_https_command_is_uvicorn_with_tls_on_the_https_port_and_given_options_last():
    settings = Settings(
        gateway_https_port=9443, gateway_tls_cert_file="/tls/tls.crt", gateway_tls_key_file="/tls/tls.key"
    )

    command = uvicorn_command(settings, ["--host", "0.0.0.0"])

    assert command[1:] == [
        "-m", "uvicorn", "api_gateway.main:app", "--port", "9443",
        "--ssl-certfile", "/tls/tls.crt", "--ssl-keyfile", "/tls/tls.key", "--host", "0.0.0.0",
    ]  # fmt: skip


def test_empty_file_settings_mean_no_https(monkeypatch):
    monkeypatch.setenv("GATEWAY_TLS_CERT_FILE", "")
    monkeypatch.setenv("GATEWAY_TLS_KEY_FILE", "")

    assert not Settings().tls_configured
