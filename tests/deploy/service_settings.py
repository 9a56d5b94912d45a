"""Which environment variables each service reads, from its own Settings class."""

import importlib
from collections.abc import Iterable

from common.config import FILE_SUFFIX, environment_names


def settings_class(service: str):
    return importlib.import_module(f"{service}.config").Settings


def env_name(settings, field_name: str) -> list[str]:
    """The environment variable(s) a settings field is read from."""
    return environment_names(settings, field_name, settings.model_fields[field_name])


def setting_names(service: str) -> set[str]:
    """Every variable the service reads: each setting's own, and `<NAME>_FILE` for each."""
    settings = settings_class(service)
    names = {name for field_name in settings.model_fields for name in env_name(settings, field_name)}
    return names | {name + FILE_SUFFIX for name in names}


def application_settings(variables: Iterable[str]) -> set[str]:
    """The variables a service's Settings must declare: all but OpenTelemetry's standard `OTEL_*`,
    which its SDK reads itself (common/telemetry.py)."""
    return {variable for variable in variables if not variable.startswith("OTEL_")}
