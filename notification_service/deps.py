from typing import Annotated

from fastapi import Depends, Request

from common.db import Database
from common.remote_auth import AuthenticatedUser, get_current_user

CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]


# async: FastAPI runs a plain `def` dependency on a worker thread, a hop this does not need.
async def get_database(request: Request) -> Database:
    return request.app.state.database


DatabaseDep = Annotated[Database, Depends(get_database)]
