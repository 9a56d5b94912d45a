from typing import ClassVar, Literal

from pydantic import model_validator
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

    development_defaults: ClassVar[dict[str, str]] = {}

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
