from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import func, or_, select

from common.db import utcnow
from task_service import totals
from task_service.deps import CurrentUser, OwnedTask, OwnedTaskForUpdate, RelayDep, SessionDep
from task_service.messaging import record_event
from task_service.models import Task, TaskStatus
from task_service.schemas import Message, TaskCreate, TaskRead, TaskSort, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"])

SORT_ORDER = {
    TaskSort.CREATED: (Task.created_at.asc(), Task.id.asc()),
    TaskSort.CREATED_DESC: (Task.created_at.desc(), Task.id.desc()),
    TaskSort.UPDATED: (Task.updated_at.asc(), Task.id.asc()),
    TaskSort.UPDATED_DESC: (Task.updated_at.desc(), Task.id.desc()),
    TaskSort.TITLE: (Task.title.asc(), Task.id.asc()),
    TaskSort.TITLE_DESC: (Task.title.desc(), Task.id.desc()),
}


@router.post("", response_model=TaskRead, status_code=status.HTTP_201_CREATED)
def create_task(body: TaskCreate, user: CurrentUser, session: SessionDep, relay: RelayDep) -> Task:
    now = utcnow()
    task = Task(user_id=user.id, **body.model_dump(), created_at=now, updated_at=now)
    session.add(task)
    session.flush()
    totals.record_change(session, user.id, removed=None, added=task.status)
    record_event(session, "task_created", task, user)
    session.commit()
    relay.wake()
    return task


@router.get(
    "", response_model=list[TaskRead], responses={200: {"headers": {"X-Total-Count": {"schema": {"type": "integer"}}}}}
)
def list_tasks(
    user: CurrentUser,
    session: SessionDep,
    response: Response,
    status_filter: Annotated[TaskStatus | None, Query(alias="status")] = None,
    search: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Text in title or description")
    ] = None,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    sort: TaskSort = TaskSort.CREATED,
) -> list[Task]:
    """The caller's tasks, a page at a time; the number of matching tasks is in `X-Total-Count`."""
    conditions = [Task.user_id == user.id]
    if status_filter is not None:
        conditions.append(Task.status == status_filter)
    if search is not None:
        conditions.append(
            or_(Task.title.contains(search, autoescape=True), Task.description.contains(search, autoescape=True))
        )
    if search is None:
        total = totals.total(session, user.id, status_filter)
    else:
        total = session.scalar(select(func.count()).select_from(Task).where(*conditions))
    response.headers["X-Total-Count"] = str(total)
    return list(session.scalars(select(Task).where(*conditions).order_by(*SORT_ORDER[sort]).offset(skip).limit(limit)))


@router.get("/{task_id}", response_model=TaskRead, responses={404: {"description": "Task not found"}})
def read_task(task: OwnedTask) -> Task:
    return task


def _update_task(task: Task, body: TaskUpdate, user: CurrentUser, session: SessionDep, relay: RelayDep) -> Task:
    previous_status = task.status
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(task, field, value)
    if not session.is_modified(task):
        return task
    task.updated_at = utcnow()
    if task.status != previous_status:
        totals.record_change(session, user.id, removed=previous_status, added=task.status)
    record_event(session, "task_updated", task, user)
    session.commit()
    relay.wake()
    return task


@router.put("/{task_id}", response_model=TaskRead, responses={404: {"description": "Task not found"}})
def replace_task(
    task: OwnedTaskForUpdate, body: TaskUpdate, user: CurrentUser, session: SessionDep, relay: RelayDep
) -> Task:
    """Change any of title, description and status (as in the seed, fields left out keep their value)."""
    return _update_task(task, body, user, session, relay)


@router.patch("/{task_id}", response_model=TaskRead, responses={404: {"description": "Task not found"}})
def update_task(
    task: OwnedTaskForUpdate, body: TaskUpdate, user: CurrentUser, session: SessionDep, relay: RelayDep
) -> Task:
    return _update_task(task, body, user, session, relay)


@router.delete("/{task_id}", response_model=Message, responses={404: {"description": "Task not found"}})
def delete_task(task: OwnedTaskForUpdate, user: CurrentUser, session: SessionDep, relay: RelayDep) -> Message:
    record_event(session, "task_deleted", task, user)
    totals.record_change(session, user.id, removed=task.status, added=None)
    session.delete(task)
    session.commit()
    relay.wake()
    return Message(message="Task deleted successfully")
