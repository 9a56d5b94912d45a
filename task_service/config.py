from typing import ClassVar

from pydantic import Field

from common.config import TokenCheckingSettings


class Settings(TokenCheckingSettings):
    database_url: str = Field(
        "mysql+pymysql://taskuser:taskpassword@127.0.0.1:3306/task_manager", validation_alias="TASK_DATABASE_URL"
    )
    rabbitmq_url: str = "amqp://admin:admin123@127.0.0.1:5672/%2F"
    events_exchange: str = "task_events"
    # How long the outbox relay waits between looks when no request has woken it.
    outbox_poll_seconds: float = Field(1.0, gt=0)

    development_defaults: ClassVar[dict[str, str]] = {
        "database_url": ":taskpassword@",
        "rabbitmq_url": ":admin123@",
    }
