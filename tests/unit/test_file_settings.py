"""Every setting `<NAME>` can be given as `<NAME>_FILE`, the path of a file holding it (Docker secrets)."""

import pytest
from pydantic_settings import SettingsError

from api_gateway.config import Settings as GatewaySettings
from auth_service.config import Settings as AuthSettings
from common.config import ServiceSettings
from notification_service.config import Settings as NotificationSettings
from task_service.config import Settings as TaskSettings
from tests.deploy.service_settings import env_name

ALL_SETTINGS: list[type[ServiceSettings]] = [AuthSettings, TaskSettings, NotificationSettings, GatewaySettings]
# A secret-bearing setting of each service, its variable and a value.
SECRETS = [
    (AuthSettings, "database_url", "AUTH_DATABASE_URL", "postgresql+psycopg2://auth:f1le@db:5432/auth"),
    (AuthSettings, "jwt_secret_key", "JWT_SECRET_KEY", "k" * 48),
    (AuthSettings, "redis_url", "REDIS_URL", "redis://:f1le@redis:6379/0"),
    (TaskSettings, "database_url", "TASK_DATABASE_URL", "mysql+pymysql://tasks:f1le@db:3306/tasks"),
    (TaskSettings, "rabbitmq_url", "RABBITMQ_URL", "amqp://tasks:f1le@broker:5672/%2F"),
    (TaskSettings, "redis_url", "REDIS_URL", "redis://:f1le@redis:6379/0"),
    (NotificationSettings, "database_url", "NOTIFICATION_DATABASE_URL", "mysql+pymysql://n:f1le@db:3306/n"),
    (NotificationSettings, "rabbitmq_url", "RABBITMQ_URL", "amqp://n:f1le@broker:5672/%2F"),
    (NotificationSettings, "smtp_password", "SMTP_PASSWORD", "smtp-f1le"),
    (NotificationSettings, "redis_url", "REDIS_URL", "redis://:f1le@redis:6379/0"),
]


def service(settings) -> str:
    return settings.__module__.split(".")[0]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for settings in ALL_SETTINGS:
        for field_name in settings.model_fields:
            for name in env_name(settings, field_name):
                monkeypatch.delenv(name, raising=False)
                monkeypatch.delenv(name + "_FILE", raising=False)


@pytest.mark.parametrize(
    ("settings", "field", "variable", "value"), SECRETS, ids=[f"{service(s)}-{v}" for s, _, v, _ in SECRETS]
)
def test_a_secret_is_read_from_the_file_its_variable_names(settings, field, variable, value, tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text(value + "\n")  # as `echo` and most editors write it
    monkeypatch.setenv(f"{variable}_FILE", str(secret))

    assert getattr(settings(_env_file=None), field) == value


@pytest.mark.parametrize("settings", ALL_SETTINGS, ids=service)
def test_every_setting_of_every_service_has_a_file_variant(settings, tmp_path, monkeypatch):
    # Non-secret settings too, typed ones included: the file's text is validated like the variable's.
    (tmp_path / "level").write_text("WARNING\n")
    (tmp_path / "limit").write_text("7")
    monkeypatch.setenv("LOG_LEVEL_FILE", str(tmp_path / "level"))
    monkeypatch.setenv("MAX_CONCURRENT_REQUESTS_FILE", str(tmp_path / "limit"))

    loaded = settings(_env_file=None)

    assert (loaded.log_level, loaded.max_concurrent_requests) == ("WARNING", 7)


def test_only_one_trailing_line_ending_is_stripped(tmp_path, monkeypatch):
    key = "  a key with spaces, a tab\t and more than thirty-two characters "
    (tmp_path / "key").write_bytes(key.encode() + b"\r\n")
    monkeypatch.setenv("JWT_SECRET_KEY_FILE", str(tmp_path / "key"))

    assert AuthSettings(_env_file=None).jwt_secret_key == key


def test_the_file_wins_over_an_empty_variable(tmp_path, monkeypatch):
    # docker-compose.prod.yml blanks the development URL and gives the file instead.
    (tmp_path / "url").write_text("amqp://t:f1le@broker:5672/%2F\n")
    monkeypatch.setenv("RABBITMQ_URL", "")
    monkeypatch.setenv("RABBITMQ_URL_FILE", str(tmp_path / "url"))

    assert TaskSettings(_env_file=None).rabbitmq_url == "amqp://t:f1le@broker:5672/%2F"


def test_arguments_still_win_over_files(tmp_path, monkeypatch):
    (tmp_path / "level").write_text("ERROR")
    monkeypatch.setenv("LOG_LEVEL_FILE", str(tmp_path / "level"))

    assert ServiceSettings(_env_file=None, log_level="DEBUG").log_level == "DEBUG"


@pytest.mark.parametrize("settings", ALL_SETTINGS, ids=service)
def test_a_missing_file_stops_the_service_naming_the_variable(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL_FILE", str(tmp_path / "absent"))

    with pytest.raises(SettingsError, match=r"LOG_LEVEL_FILE=.*absent: cannot read the file"):
        settings(_env_file=None)


def test_a_directory_or_unreadable_file_stops_the_service(tmp_path, monkeypatch):
    # A compose secret whose file was never created can turn up as an empty directory.
    (tmp_path / "dir").mkdir()
    monkeypatch.setenv("JWT_SECRET_KEY_FILE", str(tmp_path / "dir"))
    with pytest.raises(SettingsError, match="JWT_SECRET_KEY_FILE"):
        AuthSettings(_env_file=None)

    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00")
    monkeypatch.setenv("JWT_SECRET_KEY_FILE", str(tmp_path / "binary"))
    with pytest.raises(SettingsError, match="JWT_SECRET_KEY_FILE"):
        AuthSettings(_env_file=None)


def test_a_value_given_twice_is_refused(tmp_path, monkeypatch):
    (tmp_path / "key").write_text("k" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY_FILE", str(tmp_path / "key"))

    with pytest.raises(SettingsError, match="JWT_SECRET_KEY and JWT_SECRET_KEY_FILE are both set"):
        AuthSettings(_env_file=None)


def test_an_empty_file_variable_is_ignored(monkeypatch):
    monkeypatch.setenv("JWT_SECRET_KEY_FILE", "")

    assert AuthSettings(_env_file=None).jwt_secret_key == AuthSettings.model_fields["jwt_secret_key"].default
