from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from notification_service.deps import CurrentUser, SessionDep
from notification_service.models import Notification
from notification_service.schemas import NotificationRead

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationRead])
def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[Notification]:
    """The caller's notifications, newest first."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .offset(skip)
        .limit(limit)
    )
    return list(session.scalars(query))
