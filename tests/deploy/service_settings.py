"""Which environment variables each service reads, from its own Settings class."""

import importlib

from pydantic import AliasChoices


def settings_class(service: str):
    return importlib.import_module(f"{service}.config").Settings


def env_name(settings, field_name: str) -> list[str]:
    """The environment variable(s) a settings field is read from."""
    alias = settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        return [choice.upper() for choice in alias.choices if isinstance(choice, str)]
    if isinstance(alias, str):
        return [alias.upper()]
    return [(settings.model_config.get("env_prefix", "") + field_name).upper()]


def setting_names(service: str) -> set[str]:
    settings = settings_class(service)
    return {name for field_name in settings.model_fields for name in env_name(settings, field_name)}
