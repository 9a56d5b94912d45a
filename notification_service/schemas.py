import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TaskEventData(BaseModel):
    task_id: int
    # The task service allows 1-200 characters; anything else could never be stored.
    title: str = Field(min_length=1, max_length=200)
    description: str | None = None
    status: str
    user_id: int
    username: str
    email: str


class TaskEvent(BaseModel):
    """The envelope the task service publishes (SPEC §4); unknown extra fields are tolerated."""

    event_id: uuid.UUID
    event_type: Literal["task_created", "task_updated", "task_deleted"]
    occurred_at: datetime
    version: Literal[1]
    data: TaskEventData


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    event_type: str
    task_id: int
    title: str
    message: str
    created_at: datetime
