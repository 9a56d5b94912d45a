from typing import Annotated

from fastapi import Depends, Request

from common.remote_auth import AuthenticatedUser, get_current_user
from task_service.services import TaskService

CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]


# async: FastAPI runs a plain `def` dependency on a worker thread, a hop this does not need.
async def get_task_service(request: Request) -> TaskService:
    return request.app.state.task_service


TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]
