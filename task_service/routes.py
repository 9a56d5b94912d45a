"""HTTP for tasks: each route checks its input, hands one piece of work to a worker thread and answers.

The routes are `async` and call the service through `run_sync`: FastAPI would otherwise run a
plain `def` route on one worker thread and validate its answer on another.
"""

from typing import Annotated, Any

from anyio.to_thread import run_sync
from fastapi import APIRouter, Query, Response, status

from common.text import MULTI_LINE_PATTERN
from task_service.deps import CurrentUser, TaskServiceDep
from task_service.models import TaskStatus
from task_service.schemas import MAX_SKIP, Message, TaskCreate, TaskRead, TaskSort, TaskUpdate
from task_service.services import TaskQuery

router = APIRouter(prefix="/tasks", tags=["tasks"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Task not found"}}


@router.post("", response_model=TaskRead, status_code=status.HTTP_201_CREATED)
async def create_task(body: TaskCreate, user: CurrentUser, tasks: TaskServiceDep) -> TaskRead:
    return await run_sync(tasks.create, user, body)


@router.get(
    "", response_model=list[TaskRead], responses={200: {"headers": {"X-Total-Count": {"schema": {"type": "integer"}}}}}
)
async def list_tasks(
    user: CurrentUser,
    tasks: TaskServiceDep,
    response: Response,
    status_filter: Annotated[TaskStatus | None, Query(alias="status")] = None,
    search: Annotated[
        str | None,
        Query(min_length=1, max_length=200, pattern=MULTI_LINE_PATTERN, description="Text in title or description"),
    ] = None,
    skip: Annotated[int, Query(ge=0, le=MAX_SKIP)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    sort: TaskSort = TaskSort.CREATED,
) -> list[TaskRead]:
    """The caller's tasks, a page at a time; the number of matching tasks is in `X-Total-Count`."""
    page = await run_sync(tasks.list, user, TaskQuery(status_filter, search, skip, limit, sort))
    response.headers["X-Total-Count"] = str(page.total)
    return page.tasks


@router.get("/{task_id}", response_model=TaskRead, responses=NOT_FOUND)
async def read_task(task_id: int, user: CurrentUser, tasks: TaskServiceDep) -> TaskRead:
    return await run_sync(tasks.get, user, task_id)


@router.put("/{task_id}", response_model=TaskRead, responses=NOT_FOUND)
async def replace_task(task_id: int, body: TaskUpdate, user: CurrentUser, tasks: TaskServiceDep) -> TaskRead:
    """Change any of title, description and status (fields left out keep their value, as with PATCH)."""
    return await run_sync(tasks.update, user, task_id, body)


@router.patch("/{task_id}", response_model=TaskRead, responses=NOT_FOUND)
async def update_task(task_id: int, body: TaskUpdate, user: CurrentUser, tasks: TaskServiceDep) -> TaskRead:
    return await run_sync(tasks.update, user, task_id, body)


@router.delete("/{task_id}", response_model=Message, responses=NOT_FOUND)
async def delete_task(task_id: int, user: CurrentUser, tasks: TaskServiceDep) -> Message:
    await run_sync(tasks.delete, user, task_id)
    return Message(message="Task deleted successfully")
