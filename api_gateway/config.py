from pydantic import Field

from common.config import ServiceSettings


class Settings(ServiceSettings):
    auth_service_url: str = "http://127.0.0.1:8001"
    task_service_url: str = "http://127.0.0.1:8002"
    notification_service_url: str = "http://127.0.0.1:8003"
    connect_timeout_seconds: float = Field(5.0, gt=0)
    # How long a service may take to answer; event streams are exempt and stay open.
    upstream_timeout_seconds: float = Field(30.0, gt=0)
    health_timeout_seconds: float = Field(3.0, gt=0)
    # The services take small JSON bodies; anything larger is refused before it is buffered.
    max_request_body_bytes: int = Field(1024 * 1024, ge=1024)
    # Pooled connections to the services, shared by every request (size it to the expected concurrency).
    max_upstream_connections: int = Field(200, ge=1)
