import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from common.text import MULTI_LINE_PATTERN, SINGLE_LINE_PATTERN
from task_service.models import TaskStatus

# Lengths in characters: the columns are utf8mb4, so 200 emoji fit a title as well as 200 letters.
# A title is one line (it becomes a mail subject and a log line); a description may span lines.
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=SINGLE_LINE_PATTERN),
]
Description = Annotated[str, StringConstraints(max_length=10_000, pattern=MULTI_LINE_PATTERN)]
# Past this an offset page is a scan of a million rows; the database refuses offsets past 2**64 outright.
MAX_SKIP = 1_000_000


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title = Field(examples=["Complete project documentation"])
    description: Description | None = Field(None, examples=["Write comprehensive README and API docs"])
    status: TaskStatus = TaskStatus.PENDING


class TaskUpdate(BaseModel):
    """Any of the fields; those left out keep their value. `description: null` clears it."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None

    @model_validator(mode="after")
    def _names_a_field_and_nulls_only_description(self):
        if not self.model_fields_set:
            raise ValueError("Give at least one of title, description, status")
        for field in ("title", "status"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str | None
    status: TaskStatus
    user_id: int
    created_at: datetime
    updated_at: datetime


class TaskSort(enum.StrEnum):
    CREATED = "created_at"
    CREATED_DESC = "-created_at"
    UPDATED = "updated_at"
    UPDATED_DESC = "-updated_at"
    TITLE = "title"
    TITLE_DESC = "-title"


class Message(BaseModel):
    message: str
