from pathlib import Path
from typing import ClassVar

from pydantic import Field

from common.config import TokenCheckingSettings

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


class Settings(TokenCheckingSettings):
    database_url: str = Field(
        "mysql+pymysql://notifyuser:notifypassword@127.0.0.1:3306/notifications",
        validation_alias="NOTIFICATION_DATABASE_URL",
    )
    rabbitmq_url: str = "amqp://admin:admin123@127.0.0.1:5672/%2F"
    events_exchange: str = "task_events"
    queue_name: str = "notifications"
    # Messages the service can never process (malformed, unknown type) end up here for a person to read.
    dead_letter_exchange: str = "notifications.dead-letter"
    dead_letter_queue: str = "notifications.dead-letter"
    # Fanout exchange that tells every replica about each new notification, for live streams.
    live_exchange: str = "notifications.live"
    # How often an idle live stream sends a comment line, so proxies keep it open.
    stream_keepalive_seconds: float = Field(15.0, gt=0)
    # Live streams one user may hold open on this replica (429 past it), and all users together (503).
    max_streams_per_user: int = Field(5, ge=1)
    max_streams: int = Field(1000, ge=1)
    # At the repository root whatever the working directory; the container sets /app/logs/...
    notification_log_file: Path = REPOSITORY_ROOT / "notification_logs" / "notifications.log"

    enable_email_notifications: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Task Manager <no-reply@example.com>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(10.0, gt=0)

    development_defaults: ClassVar[dict[str, str]] = {
        "database_url": ":notifypassword@",
        "rabbitmq_url": ":admin123@",
    }
