import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# Past this an offset page is a scan of a million rows; the database refuses offsets past 2**64 outright.
MAX_SKIP = 1_000_000
# The columns ids are stored in (INT); an event with any other id could never be stored.
StoredId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class TaskEventData(BaseModel):
    task_id: StoredId
    # The task service allows 1-200 characters; anything else could never be stored.
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    status: str = Field(max_length=50)
    user_id: StoredId
    username: str = Field(max_length=50)
    email: str = Field(max_length=320)


class TaskEvent(BaseModel):
    """The envelope the task service publishes (version 1); unknown extra fields are tolerated."""

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


class LiveNotification(BaseModel):
    """What one replica tells every other on the live fanout exchange: a new notification of a user."""

    user_id: StoredId
    notification: NotificationRead
