from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from common.db import get_db
from common.remote_auth import AuthenticatedUser, get_current_user
from task_service.messaging import OutboxRelay
from task_service.models import Task

SessionDep = Annotated[Session, Depends(get_db)]
CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]


def get_relay(request: Request) -> OutboxRelay:
    return request.app.state.relay


RelayDep = Annotated[OutboxRelay, Depends(get_relay)]


def get_owned_task(task_id: int, user: CurrentUser, session: SessionDep) -> Task:
    """The task, if it exists and belongs to the caller; another user's task is as missing as a missing one."""
    return _owned(session.get(Task, task_id), user)


def get_owned_task_for_update(task_id: int, user: CurrentUser, session: SessionDep) -> Task:
    """As `get_owned_task`, with the row locked until the request commits.

    Two concurrent changes of one task then happen one after the other: the second sees the
    first's result (or that the task is gone), so the per-status totals stay exact and a double
    delete is a 404 rather than an error.
    """
    return _owned(session.get(Task, task_id, with_for_update=True), user)


def _owned(task: Task | None, user: CurrentUser) -> Task:
    if task is None or task.user_id != user.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")
    return task


OwnedTask = Annotated[Task, Depends(get_owned_task)]
OwnedTaskForUpdate = Annotated[Task, Depends(get_owned_task_for_update)]
