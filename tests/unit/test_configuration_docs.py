"""docs/configuration.md names every setting every service reads, so the table cannot fall behind the code."""

import pytest

from api_gateway.config import Settings as GatewaySettings
from auth_service.config import Settings as AuthSettings
from notification_service.config import Settings as NotificationSettings
from task_service.config import Settings as TaskSettings
from tests.helpers import ROOT


@pytest.mark.parametrize("settings", [AuthSettings, TaskSettings, NotificationSettings, GatewaySettings])
def test_every_setting_is_documented(settings):
    documented = (ROOT / "docs" / "configuration.md").read_text()
    variables = {
        (field.validation_alias if isinstance(field.validation_alias, str) else name).upper()
        for name, field in settings.model_fields.items()
    }

    assert {variable for variable in variables if f"`{variable}`" not in documented} == set()
