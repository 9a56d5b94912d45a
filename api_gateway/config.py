import ipaddress
from pathlib import Path
from typing import Annotated

from limits import parse_many
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from common.config import ServiceSettings

Networks = list[ipaddress.IPv4Network | ipaddress.IPv6Network]


def _comma_separated(value):
    """A list setting given in the environment as `a, b, c` (or already a list)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


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

    # Rate limits, in the `limits` notation ("10/minute", several joined by ";"); empty turns one off.
    # Where the counters live: shared by every gateway replica when set, in this process otherwise.
    redis_url: str | None = None
    login_rate_limit: str = "20/minute;100/hour"
    login_account_rate_limit: str = "10/minute;50/hour"
    register_rate_limit: str = "10/minute;50/hour"
    # Every request of one client address, on every path; off unless set (`make bench` comes from one address).
    rate_limit: str = ""
    # Peers whose X-Forwarded-For names the client (IPs or CIDRs, comma-separated); no one by default.
    trusted_proxies: Annotated[Networks, NoDecode] = Field(default_factory=list)
    # Origins a browser may call the API from (comma-separated); none by default, so no CORS headers.
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split(cls, value):
        return _comma_separated(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value):
        items = _comma_separated(value)
        return [ipaddress.ip_network(item, strict=False) if isinstance(item, str) else item for item in items]

    @field_validator("login_rate_limit", "login_account_rate_limit", "register_rate_limit", "rate_limit")
    @classmethod
    def _valid_limits(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                parse_many(value)
            except ValueError as exc:
                raise ValueError(f"not a rate limit such as '10/minute' or '10/minute;100/hour': {value!r}") from exc
        return value

    @field_validator("cors_allow_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [origin.rstrip("/") for origin in value]

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self):
        if self.cors_allow_credentials and "*" in self.cors_allow_origins:
            raise ValueError(
                "CORS_ALLOW_ORIGINS='*' with CORS_ALLOW_CREDENTIALS=true would let any site call the API "
                "as the signed-in user: list the origins instead"
            )
        return self
