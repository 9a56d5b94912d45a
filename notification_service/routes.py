import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from common.remote_auth import AuthServiceClient, bearer_scheme
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
async def stream_notifications(
    user: CurrentUser, token: Annotated[str, Depends(bearer_scheme)], request: Request
) -> StreamingResponse:
    """Server-sent events: each new notification of the caller, as it happens (`data` as in the list).

    The token is checked again before each notification and keep-alive: once it is signed out,
    superseded or expired, the stream sends one `unauthorized` event and ends.
    """
    hub = request.app.state.stream_hub
    auth_client: AuthServiceClient = request.app.state.auth_client
    keepalive = request.app.state.settings.stream_keepalive_seconds
    stream = hub.subscribe(user.id)

    async def still_authorized() -> HTTPException | None:
        try:
            await auth_client.verify(token)
        except HTTPException as refusal:
            # An auth service that is briefly away does not end the stream; a refused token does.
            if refusal.status_code == status.HTTP_401_UNAUTHORIZED:
                return refusal
        return None

    async def events() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(stream.get(), timeout=keepalive)
                except TimeoutError:
                    item = None
                refusal = await still_authorized()
                if refusal is not None:
                    yield f"event: unauthorized\ndata: {json.dumps({'detail': refusal.detail})}\n\n"
                    return
                yield ": keep-alive\n\n" if item is None else f"event: notification\ndata: {item}\n\n"
        finally:
            hub.unsubscribe(user.id, stream)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
