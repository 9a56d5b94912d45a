import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
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


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "One `notification` event per new one"}},
)
async def stream_notifications(user: CurrentUser, request: Request) -> StreamingResponse:
    """Server-sent events: each new notification of the caller, as it happens (`data` as in the list)."""
    hub = request.app.state.stream_hub
    keepalive = request.app.state.settings.stream_keepalive_seconds
    stream = hub.subscribe(user.id)

    async def events() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            while True:
                try:
                    notification_json = await asyncio.wait_for(stream.get(), timeout=keepalive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: notification\ndata: {notification_json}\n\n"
        finally:
            hub.unsubscribe(user.id, stream)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
