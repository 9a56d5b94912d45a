import logging
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Base of every service's settings: environment variables first, then `.env`.

    Subclasses list in `development_defaults` the fields whose default holds a development
    secret; a service started with ENVIRONMENT=production refuses to start while any of them
    still contains it.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # One line per request, at this level; OFF saves its cost where a proxy in front logs requests.
    access_log_level: Literal["DEBUG", "INFO", "WARNING", "OFF"] = "INFO"
    # Requests in progress at once on this replica; the next is refused with 503 and Retry-After.
    max_concurrent_requests: int = Field(512, ge=1)

    development_defaults: ClassVar[dict[str, str]] = {}

    @property
    def access_log_level_number(self) -> int | None:
        return None if self.access_log_level == "OFF" else logging.getLevelName(self.access_log_level)

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self):
        if self.environment != "production":
            return self
        still_default = [
            name for name, secret in self.development_defaults.items() if secret in str(getattr(self, name))
        ]
        if still_default:
            raise ValueError(
                "ENVIRONMENT=production but these settings still hold their development defaults: "
                + ", ".join(sorted(still_default))
            )
        return self


class DatabaseServiceSettings(ServiceSettings):
    """Settings of the services that own a database."""

    # Threads that run database work; the pool holds one connection per thread (and per
    # background worker), so no thread ever waits for a connection.
    worker_threads: int = Field(16, ge=1, le=256)
    # CA bundle to verify a MySQL/MariaDB server's TLS certificate; unset, the connection is plain
    # (the compose network is private). PostgreSQL takes `?sslmode=...` in its URL instead.
    database_tls_ca_file: Path | None = None


class TokenCheckingSettings(DatabaseServiceSettings):
    """Settings of the services that check tokens with the auth service."""

    auth_service_url: str = "http://127.0.0.1:8001"
    auth_timeout_seconds: float = Field(5.0, gt=0)
    # Redis holds the per-user revocation counters that make caching token checks safe; unset,
    # every request asks the auth service.
    redis_url: str | None = None
    # How long a verified token is reused at most (0: never). A logout or password change is
    # refused on the next request whatever this is.
    token_cache_seconds: float = Field(30.0, ge=0)
