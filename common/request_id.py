"""One id per request, from the gateway through every service and across RabbitMQ, in every log line.

The gateway takes a sane `X-Request-ID` from the client or makes one; each service reads it
(or makes one when called directly), returns it in the response, passes it on to the services it
calls, and the task service stores it with each event so the notification service logs it too.
"""

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
NO_REQUEST = "-"
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

current_request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


def usable(candidate: str | None) -> str:
    """`candidate` when it is a sane id (it lands in logs), otherwise a new one."""
    return candidate if candidate and _VALID.match(candidate) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(HEADER.encode())
        request_id = usable(incoming.decode("latin-1") if incoming else None)
        # Each request runs in its own task and context, so the id needs no resetting afterwards,
        # and the error handler outside this middleware still logs it.
        current_request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
