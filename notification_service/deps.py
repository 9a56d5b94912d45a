from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from common.db import get_db
from common.remote_auth import AuthenticatedUser, get_current_user

SessionDep = Annotated[Session, Depends(get_db)]
CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]
