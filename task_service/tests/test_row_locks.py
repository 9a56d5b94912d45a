"""An update or a delete holds the task's row lock from the moment it reads the task until its commit.

Seen from a second connection, with `FOR UPDATE NOWAIT`: it is refused at once while the change
holds the lock, and would get the row if the change had read it without one. No timing involved.
"""

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from common.db import Database
from common.remote_auth import AuthenticatedUser
from task_service.models import TaskStatus
from task_service.schemas import TaskCreate, TaskUpdate
from task_service.services import TaskService
from tests.helpers import TASK_DATABASE_URL, migrated_database

# MariaDB's answer to NOWAIT on a locked row (and MySQL's, 3572).
LOCK_REFUSED = {1205, 3572}


class IdleRelay:
    """The relay is woken after each commit; nothing is published here."""

    def wake(self) -> None:
        pass


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    with migrated_database("task_service", TASK_DATABASE_URL) as database:
        yield database


@pytest.fixture
def lock_seen_while_reading(database: Database) -> Iterator[Callable[[int], list[bool]]]:
    """Whether another connection found task `task_id` locked, each time the service read that task."""
    other = create_engine(TASK_DATABASE_URL, isolation_level="AUTOCOMMIT")
    watched: dict[str, int] = {}
    seen: list[bool] = []

    def after_execute(connection, cursor, statement: str, parameters, context, executemany) -> None:
        reads_the_task = statement.startswith("SELECT") and "FROM tasks" in statement and "tasks.id = " in statement
        if not reads_the_task or watched.get("task_id") not in dict(parameters).values():
            return
        try:
            with other.connect() as probe:
                probe.execute(
                    text("SELECT id FROM tasks WHERE id = :task_id FOR UPDATE NOWAIT"), {"task_id": watched["task_id"]}
                )
            seen.append(False)
        except OperationalError as exc:
            assert exc.orig is not None and exc.orig.args[0] in LOCK_REFUSED, exc
            seen.append(True)

    def watch(task_id: int) -> list[bool]:
        watched["task_id"] = task_id
        return seen

    event.listen(database.engine, "after_cursor_execute", after_execute)
    yield watch
    event.remove(database.engine, "after_cursor_execute", after_execute)
    other.dispose()


def someone() -> AuthenticatedUser:
    number = uuid.uuid4().int % 10**9
    return AuthenticatedUser(id=number, username=f"lock_{number}", email=f"lock_{number}@example.com")


@pytest.mark.parametrize(
    "change",
    [
        lambda tasks, user, task_id: tasks.update(user, task_id, TaskUpdate(status=TaskStatus.COMPLETED)),
        lambda tasks, user, task_id: tasks.delete(user, task_id),
    ],
    ids=["update", "delete"],
)
def test_a_change_reads_its_task_under_the_row_lock(database, lock_seen_while_reading, change):
    tasks = TaskService(database, IdleRelay())
    user = someone()
    task = tasks.create(user, TaskCreate(title="Locked while it changes"))
    seen = lock_seen_while_reading(task.id)

    change(tasks, user, task.id)

    assert seen == [True]


def test_a_plain_read_takes_no_lock(database, lock_seen_while_reading):
    tasks = TaskService(database, IdleRelay())
    user = someone()
    task = tasks.create(user, TaskCreate(title="Read only"))
    seen = lock_seen_while_reading(task.id)

    tasks.get(user, task.id)

    assert seen == [False]
