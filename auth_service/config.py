import os
from typing import ClassVar, Literal

from pydantic import Field

from common.config import DatabaseServiceSettings

DEFAULT_JWT_SECRET = "your-super-secret-key-change-this-in-production-123456789"


class Settings(DatabaseServiceSettings):
    database_url: str = Field(
        "postgresql+psycopg2://postgres:postgres@127.0.0.1:5432/task_manager", validation_alias="AUTH_DATABASE_URL"
    )
    jwt_secret_key: str = Field(DEFAULT_JWT_SECRET, min_length=32)
    jwt_algorithm: Literal["HS256"] = "HS256"
    access_token_expire_minutes: int = Field(30, ge=1, le=24 * 60)
    # 12 is the production cost; test suites that register many users may lower it, never below 4.
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    # bcrypt holds a core for ~0.3 s; more parallel hashes than cores only queue inside the CPU.
    # One core is left to everything else (token checks above all), so a burst of sign-ins
    # cannot slow the rest of the system down.
    hashing_concurrency: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1, le=64)
    # Hashes that may wait for one of those threads; the next sign-in is refused (503, Retry-After).
    # At cost 12 on two cores, 16 waiting is about two seconds of work.
    hashing_queue_limit: int = Field(16, ge=0, le=10_000)
    # Where the per-user revocation counters live, read by the services that cache token checks.
    redis_url: str | None = None

    development_defaults: ClassVar[dict[str, str]] = {
        "jwt_secret_key": DEFAULT_JWT_SECRET,
        "database_url": ":postgres@",
    }
