"""The task rules, apart from HTTP: a user reaches only their own tasks, and every change commits
together with its per-status totals and its outbox event, then wakes the relay.

Each function runs in a worker thread with a session of its own (see `common.db.Database.run`),
closed before the thread is given back.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import UnaryExpression, func, or_, select
from sqlalchemy.orm import Session

from common.db import Database, utcnow
from common.errors import NotFound
from common.remote_auth import AuthenticatedUser
from task_service import totals
from task_service.messaging import record_event
from task_service.models import Task, TaskStatus
from task_service.schemas import TaskCreate, TaskRead, TaskSort, TaskUpdate

SORT_ORDER: dict[TaskSort, tuple[UnaryExpression[Any], ...]] = {
    TaskSort.CREATED: (Task.created_at.asc(), Task.id.asc()),
    TaskSort.CREATED_DESC: (Task.created_at.desc(), Task.id.desc()),
    TaskSort.UPDATED: (Task.updated_at.asc(), Task.id.asc()),
    TaskSort.UPDATED_DESC: (Task.updated_at.desc(), Task.id.desc()),
    TaskSort.TITLE: (Task.title.asc(), Task.id.asc()),
    TaskSort.TITLE_DESC: (Task.title.desc(), Task.id.desc()),
}


TASK_COLUMNS = tuple(getattr(Task, name) for name in TaskRead.model_fields)


class TaskNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Task not found")


@dataclass(frozen=True)
class TaskQuery:
    status: TaskStatus | None
    search: str | None
    skip: int
    limit: int
    sort: TaskSort


@dataclass(frozen=True)
class TaskPage:
    tasks: list[TaskRead]
    total: int


class Relay(Protocol):
    """What the service needs of the outbox relay (`task_service.messaging.OutboxRelay`)."""

    def wake(self) -> None:
        """Publish the events just committed now, rather than at the next poll."""


class TaskService:
    def __init__(self, database: Database, relay: Relay) -> None:
        self._database = database
        self._relay = relay

    def create(self, user: AuthenticatedUser, fields: TaskCreate) -> TaskRead:
        def work(session: Session) -> TaskRead:
            now = utcnow()
            task = Task(user_id=user.id, **fields.model_dump(), created_at=now, updated_at=now)
            session.add(task)
            session.flush()
            totals.record_change(session, user.id, removed=None, added=task.status)
            return self._commit_with_event(session, "task_created", task, user)

        return self._database.run(work)

    def list(self, user: AuthenticatedUser, query: TaskQuery) -> TaskPage:
        """A page of the user's tasks, and how many match in all."""

        def work(session: Session) -> TaskPage:
            conditions = [Task.user_id == user.id]
            if query.status is not None:
                conditions.append(Task.status == query.status)
            if query.search is None:
                total = totals.total(session, user.id, query.status)
            else:
                conditions.append(
                    or_(
                        Task.title.contains(query.search, autoescape=True),
                        Task.description.contains(query.search, autoescape=True),
                    )
                )
                total = session.scalar(select(func.count()).select_from(Task).where(*conditions)) or 0
            # Plain rows rather than ORM objects: a page is only read, and loading it into the
            # session's identity map would cost about a fifth of the request.
            page = session.execute(
                select(*TASK_COLUMNS)
                .where(*conditions)
                .order_by(*SORT_ORDER[query.sort])
                .offset(query.skip)
                .limit(query.limit)
            )
            return TaskPage([TaskRead.model_validate(row) for row in page], total)

        return self._database.run(work)

    def get(self, user: AuthenticatedUser, task_id: int) -> TaskRead:
        return self._database.run(lambda session: TaskRead.model_validate(_owned(session, user, task_id)))

    def update(self, user: AuthenticatedUser, task_id: int, changes: TaskUpdate) -> TaskRead:
        """Change the fields given; an update that changes nothing publishes nothing and keeps `updated_at`."""

        def work(session: Session) -> TaskRead:
            task = _owned(session, user, task_id, for_update=True)
            previous_status = task.status
            for field, value in changes.model_dump(exclude_unset=True).items():
                setattr(task, field, value)
            if not session.is_modified(task):
                return TaskRead.model_validate(task)
            task.updated_at = utcnow()
            if task.status != previous_status:
                totals.record_change(session, user.id, removed=previous_status, added=task.status)
            return self._commit_with_event(session, "task_updated", task, user)

        return self._database.run(work)

    def delete(self, user: AuthenticatedUser, task_id: int) -> None:
        def work(session: Session) -> None:
            task = _owned(session, user, task_id, for_update=True)
            totals.record_change(session, user.id, removed=task.status, added=None)
            session.delete(task)
            self._commit_with_event(session, "task_deleted", task, user)

        self._database.run(work)

    def _commit_with_event(self, session: Session, event_type: str, task: Task, user: AuthenticatedUser) -> TaskRead:
        record_event(session, event_type, task, user)
        session.commit()
        self._relay.wake()
        return TaskRead.model_validate(task)


def _owned(session: Session, user: AuthenticatedUser, task_id: int, for_update: bool = False) -> Task:
    """The task, if it exists and belongs to the user; another user's task is as missing as a missing one.

    `for_update` locks the row until the commit: two concurrent changes of one task then happen
    one after the other, so the per-status totals stay exact and a double delete is a 404.
    """
    task = session.get(Task, task_id, with_for_update=for_update)
    if task is None or task.user_id != user.id:
        raise TaskNotFound()
    return task
