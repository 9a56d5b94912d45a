from pathlib import Path

from pydantic import Field, field_validator, model_validator

from common.config import ServiceSettings


class Settings(ServiceSettings):
    # Each a URL, or several separated by commas to spread requests over replicas.
    auth_service_url: str = "http://127.0.0.1:8001"
    task_service_url: str = "http://127.0.0.1:8002"
    notification_service_url: str = "http://127.0.0.1:8003"
    connect_timeout_seconds: float = Field(5.0, gt=0)
    # How long a service may take to answer; event streams are exempt and stay open.
    upstream_timeout_seconds: float = Field(30.0, gt=0)
    health_timeout_seconds: float = Field(3.0, gt=0)
    # The services take small JSON bodies; anything larger is refused before it is buffered.
    max_request_body_bytes: int = Field(1024 * 1024, ge=1024)
    # Pooled connections to each service, shared by every request to it; a request that finds
    # none free within a second is refused with 503 (size it to the expected concurrency).
    max_upstream_connections: int = Field(256, ge=1)
    # Live event streams open through this gateway at once, on a pool of their own.
    max_streams: int = Field(1000, ge=1)
    # HTTPS: `python -m api_gateway.serve_https` serves this same app with TLS on this port, beside the plain
    # HTTP listener, when both files are set (PEM; the certificate file may hold the chain after it).
    gateway_https_port: int = Field(8443, ge=1, le=65535)
    gateway_tls_cert_file: Path | None = None
    gateway_tls_key_file: Path | None = None
    # Strict-Transport-Security on every response served over HTTPS (never over plain HTTP).
    hsts_max_age_seconds: int = Field(31536000, ge=0)
    hsts_include_subdomains: bool = False

    @field_validator("gateway_tls_cert_file", "gateway_tls_key_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        # `GATEWAY_TLS_CERT_FILE= make dev` turns HTTPS off rather than naming the current directory.
        return None if value == "" else value

    @property
    def tls_configured(self) -> bool:
        return self.gateway_tls_cert_file is not None

    @model_validator(mode="after")
    def _tls_needs_both_files(self):
        if (self.gateway_tls_cert_file is None) != (self.gateway_tls_key_file is None):
            raise ValueError("GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE go together: set both or neither")
        return self
