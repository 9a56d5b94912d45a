import logging
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

FILE_SUFFIX = "_FILE"


def environment_names(settings_cls: type[BaseSettings], field_name: str, field: FieldInfo) -> list[str]:
    """The environment variable(s) a field is read from, upper-case, as pydantic-settings looks them up."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [choice.upper() for choice in alias.choices if isinstance(choice, str)]
    if isinstance(alias, str):
        return [alias.upper()]
    return [(settings_cls.model_config.get("env_prefix", "") + field_name).upper()]


def read_setting_file(variable: str, path: str) -> str:
    """The content of the file `<NAME>_FILE` names, without its trailing line ending (Docker secrets' way)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{variable}={path}: cannot read the file ({error})") from error
    return text.removesuffix("\n").removesuffix("\r")


class FileEnvironmentSource(PydanticBaseSettingsSource):
    """`<NAME>_FILE=/path` sets the setting `<NAME>` to that file's content, for every setting.

    This is the convention of Docker secrets and the official database images: a secret is mounted as a
    file and only its path is in the environment. Setting both `<NAME>` (non-empty) and `<NAME>_FILE` is
    refused, as is a file that cannot be read: the service does not start, and the error names the variable.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        raise NotImplementedError  # __call__ reads every field at once

    def __call__(self) -> dict[str, Any]:
        environ = {name.upper(): value for name, value in os.environ.items()}
        values: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            for name in environment_names(self.settings_cls, field_name, field):
                path = environ.get(name + FILE_SUFFIX)
                if not path:
                    continue
                if environ.get(name):
                    raise SettingsError(f"{name} and {name}{FILE_SUFFIX} are both set: set only one of them")
                values[field_name] = read_setting_file(name + FILE_SUFFIX, path)
                break
        return values


class ServiceSettings(BaseSettings):
    """Base of every service's settings: `<NAME>_FILE` first, then environment variables, then `.env`.

    Every setting `<NAME>` may instead be given as `<NAME>_FILE`, the path of a file holding the value
    (a Docker or Kubernetes secret): see FileEnvironmentSource.

    Subclasses list in `development_defaults` the fields whose default holds a development
    secret; a service started with ENVIRONMENT=production refuses to start while any of them
    still contains it.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # `json`: one JSON object per line on stdout, for a log collector; `text` reads better in a terminal.
    log_format: Literal["text", "json"] = "text"
    # One line per request, at this level; OFF saves its cost where a proxy in front logs requests.
    access_log_level: Literal["DEBUG", "INFO", "WARNING", "OFF"] = "INFO"
    # Requests in progress at once on this replica; the next is refused with 503 and Retry-After.
    max_concurrent_requests: int = Field(512, ge=1)

    development_defaults: ClassVar[dict[str, str]] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, FileEnvironmentSource(settings_cls), env_settings, dotenv_settings, file_secret_settings)

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
