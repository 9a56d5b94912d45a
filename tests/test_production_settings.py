"""ENVIRONMENT=production refuses every development secret, in every service that has one."""

import pytest
from pydantic import ValidationError

from auth_service.config import Settings as AuthSettings
from notification_service.config import Settings as NotificationSettings
from task_service.config import Settings as TaskSettings
from tests.deploy.service_settings import env_name

REAL_SECRETS = {
    AuthSettings: {
        "database_url": "postgresql+psycopg2://auth:s3cret@db:5432/auth",
        "jwt_secret_key": "a-real-secret-that-is-long-enough-0123456789",
    },
    TaskSettings: {
        "database_url": "mysql+pymysql://tasks:s3cret@db:3306/tasks",
        "rabbitmq_url": "amqp://tasks:s3cret@broker:5672/%2F",
    },
    NotificationSettings: {
        "database_url": "mysql+pymysql://notes:s3cret@db:3306/notes",
        "rabbitmq_url": "amqp://notes:s3cret@broker:5672/%2F",
    },
}
CASES = [(settings, field) for settings, secrets in REAL_SECRETS.items() for field in secrets]


@pytest.mark.parametrize(("settings", "field"), CASES, ids=[f"{s.__module__.split('.')[0]}-{f}" for s, f in CASES])
def test_production_refuses_a_development_default(settings, field):
    secrets = {name: value for name, value in REAL_SECRETS[settings].items() if name != field}

    with pytest.raises(ValidationError, match=field):
        settings(environment="production", **secrets)


@pytest.mark.parametrize("settings", list(REAL_SECRETS), ids=lambda s: s.__module__.split(".")[0])
def test_production_starts_with_real_secrets_and_development_with_defaults(settings):
    assert settings(environment="production", **REAL_SECRETS[settings]).environment == "production"
    assert settings(environment="development").environment == "development"


def test_every_development_default_is_covered_here():
    for settings, secrets in REAL_SECRETS.items():
        assert set(settings.development_defaults) == set(secrets)


# --- the same, with every secret given as a file (`<NAME>_FILE`, as compose and Kubernetes give them) ---


def write_secret_files(settings, secrets: dict[str, str], directory, monkeypatch) -> None:
    for field, value in secrets.items():
        (variable,) = env_name(settings, field)
        path = directory / variable
        path.write_text(value + "\n")
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv(f"{variable}_FILE", str(path))


@pytest.mark.parametrize(("settings", "field"), CASES, ids=[f"{s.__module__.split('.')[0]}-{f}" for s, f in CASES])
def test_production_refuses_a_development_default_read_from_a_file(settings, field, tmp_path, monkeypatch):
    # Every secret from a file, this one holding its development default.
    default = settings.model_fields[field].default
    write_secret_files(settings, REAL_SECRETS[settings] | {field: default}, tmp_path, monkeypatch)
    monkeypatch.setenv("ENVIRONMENT", "production")

    with pytest.raises(ValidationError, match=field):
        settings(_env_file=None)


@pytest.mark.parametrize("settings", list(REAL_SECRETS), ids=lambda s: s.__module__.split(".")[0])
def test_production_starts_with_real_secrets_from_files(settings, tmp_path, monkeypatch):
    write_secret_files(settings, REAL_SECRETS[settings], tmp_path, monkeypatch)
    (tmp_path / "environment").write_text("production\n")
    monkeypatch.setenv("ENVIRONMENT_FILE", str(tmp_path / "environment"))

    loaded = settings(_env_file=None)

    assert loaded.environment == "production"
    assert {field: getattr(loaded, field) for field in REAL_SECRETS[settings]} == REAL_SECRETS[settings]
