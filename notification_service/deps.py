from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from common.remote_auth import AuthenticatedUser, get_current_user
from notification_service.db import get_db

SessionDep = Annotated[Session, Depends(get_db)]
CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]
