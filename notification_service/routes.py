import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from common.errors import ServiceError, Unauthorized
from common.remote_auth import AuthServiceClient, Credentials
from notification_service.deps import CurrentUser, DatabaseDep
from notification_service.models import Notification
from notification_service.schemas import MAX_SKIP, NotificationRead
from notification_service.streams import StreamHub

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationRead])
async def list_notifications(
    user: CurrentUser,
    database: DatabaseDep,
    skip: Annotated[int, Query(ge=0, le=MAX_SKIP)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[NotificationRead]:
    """The caller's notifications, newest first."""

    def page(session: Session) -> list[NotificationRead]:
        query = (
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id.desc())
            .offset(skip)
            .limit(limit)
        )
        return [NotificationRead.model_validate(notification) for notification in session.scalars(query)]

    return await database.run_in_thread(page)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "One `notification` event per new one"},
        429: {"description": "The caller already has MAX_STREAMS_PER_USER streams open"},
        503: {"description": "This server holds as many streams as it may"},
    },
)
async def stream_notifications(user: CurrentUser, credential: Credentials, request: Request) -> StreamingResponse:
    """Server-sent events: each new notification of the caller, as it happens (`data` as in the list).

    The token (or API key) is checked again before each notification and keep-alive: once it is
    signed out, superseded, expired or deleted, the stream sends one `unauthorized` event and ends.
    """
    hub: StreamHub = request.app.state.stream_hub
    auth_client: AuthServiceClient = request.app.state.auth_client
    keepalive = request.app.state.settings.stream_keepalive_seconds
    stream = hub.subscribe(user.id)

    async def refusal() -> Unauthorized | None:
        try:
            await auth_client.verify(credential)
        except Unauthorized as refused:
            return refused
        except ServiceError:
            # An auth service that is briefly away does not end the stream; a refused token does.
            return None
        return None

    async def events() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(stream.get(), timeout=keepalive)
                except TimeoutError:
                    item = None
                refused = await refusal()
                if refused is not None:
                    yield f"event: unauthorized\ndata: {json.dumps({'detail': refused.detail})}\n\n"
                    return
                yield ": keep-alive\n\n" if item is None else f"event: notification\ndata: {item}\n\n"
        finally:
            hub.unsubscribe(user.id, stream)

    # Also unsubscribed after the response: a client that leaves before the first byte never
    # starts `events()`, so its `finally` would never run.
    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(hub.unsubscribe, user.id, stream),
    )
