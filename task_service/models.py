import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import UTCDateTime, utcnow
from task_service.db import Base


class TaskStatus(enum.StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In Progress"
    COMPLETED = "Completed"


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # A user's first page reads a handful of index entries, however many tasks they have.
        Index("ix_tasks_user_created", "user_id", "created_at", "id"),
        Index("ix_tasks_user_status_created", "user_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TaskStatus] = mapped_column(
        Enum(TaskStatus, name="task_status", values_callable=lambda statuses: [s.value for s in statuses]),
        default=TaskStatus.PENDING,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEvent(Base):
    """An event written in the same transaction as the change it describes, until it is published."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    routing_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    # The id of the request that made the change, sent as the message's correlation_id.
    request_id: Mapped[str | None] = mapped_column(String(64))
    # The request's trace as W3C headers in JSON, so the relay publishes the event inside that trace.
    trace_context: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskCount(Base):
    """How many tasks a user has in each status, kept in the same transaction as every change.

    COUNT(*) over a user's index range grows with their task count (16 ms at 100,000 tasks here);
    reading at most three of these rows keeps `X-Total-Count` as cheap as the page itself.
    """

    __tablename__ = "task_counts"

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[TaskStatus] = mapped_column(
        Enum(TaskStatus, name="task_status", values_callable=lambda statuses: [s.value for s in statuses]),
        primary_key=True,
    )
    count: Mapped[int] = mapped_column(default=0)
