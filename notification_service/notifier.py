"""What the service does with each task event: store it once, log it, and tell the user."""

import json
import logging
import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from common.db import utcnow
from common.request_id import current_request_id
from common.telemetry import trace_id_of_current_span
from notification_service.mailer import Mailer
from notification_service.models import Notification
from notification_service.schemas import TaskEvent

logger = logging.getLogger(__name__)

VERBS = {"task_created": "created", "task_updated": "updated", "task_deleted": "deleted"}


def describe(event: TaskEvent) -> str:
    message = f"Task '{event.data.title}' was {VERBS[event.event_type]}"
    if event.event_type != "task_deleted":
        message += f" (status: {event.data.status})"
    return message


class NotificationLog:
    """The notification log file: one JSON object per line, appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def is_writable(self) -> bool:
        """Whether a line could be appended now (a bind mount owned by another user cannot be)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                return True
        except OSError:
            return False

    def append(self, event: TaskEvent, message: str) -> None:
        line = json.dumps(
            {
                "logged_at": utcnow().isoformat(),
                "event_id": str(event.event_id),
                "event_type": event.event_type,
                "occurred_at": event.occurred_at.isoformat(),
                "user_id": event.data.user_id,
                "username": event.data.username,
                "task_id": event.data.task_id,
                "title": event.data.title,
                "status": event.data.status,
                "message": message,
                "request_id": current_request_id.get(),
                "trace_id": trace_id_of_current_span(),
            }
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write of one line to a file opened for appending: lines never interleave.
            with self.path.open("a", encoding="utf-8") as log_file:
                log_file.write(line + "\n")


class Notifier:
    def __init__(self, session_factory: sessionmaker[Session], log: NotificationLog, mailer: Mailer | None) -> None:
        self._session_factory = session_factory
        self._log = log
        self._mailer = mailer

    def handle(self, event: TaskEvent) -> Notification | None:
        """Record `event`; None when it was already recorded (a redelivery), which changes nothing.

        The log line and email go out before the commit: a crash in between redelivers the event
        and repeats them, which is better than losing them.
        """
        event_id = str(event.event_id)
        with self._session_factory() as session:
            message = describe(event)
            notification = Notification(
                event_id=event_id,
                event_type=event.event_type,
                user_id=event.data.user_id,
                task_id=event.data.task_id,
                title=event.data.title,
                message=message,
            )
            session.add(notification)
            try:
                # The unique event_id turns a redelivery (or a replica handling the same event
                # at the same moment) into an IntegrityError here, before anything goes out.
                session.flush()
            except IntegrityError:
                session.rollback()
                if self._already_recorded(session, event_id):
                    logger.info("Event %s was already recorded; skipped", event_id)
                    return None
                raise
            self._log.append(event, message)
            logger.info(
                "Notification %s for user %s (%s), task %s: %s",
                event.event_type,
                event.data.user_id,
                event.data.username,
                event.data.task_id,
                message,
            )
            if self._mailer is not None:
                self._mailer.send(
                    to=event.data.email, subject=message, body=f"Hello {event.data.username},\n\n{message}.\n"
                )
            session.commit()
            return notification

    @staticmethod
    def _already_recorded(session: Session, event_id: str) -> bool:
        return session.scalar(select(Notification.id).where(Notification.event_id == event_id)) is not None
