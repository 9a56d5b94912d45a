"""Headers every gateway response carries, and CORS for the origins the settings list.

Both plain ASGI. CORS is Starlette's own middleware, built on the first request from the settings
the lifespan read; with no origins listed there is none, so no response carries a CORS header.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    # Nothing here is meant to be framed; /docs is a page of its own and frames nothing.
    (b"x-frame-options", b"DENY"),
]
REPLACED = frozenset({name for name, _ in SECURITY_HEADERS} | {b"server"})
# Tokens and account details: never kept by a browser or a shared cache.
NO_STORE_PREFIX = "/auth"
# What a browser script may read from a cross-origin answer besides the CORS-safelisted headers.
EXPOSED_HEADERS = ["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "X-Request-ID"]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-Request-ID", "X-API-Key"]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        no_store = path == NO_STORE_PREFIX or path.startswith(NO_STORE_PREFIX + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in REPLACED and not (no_store and name.lower() == b"cache-control")
                ]
                headers += SECURITY_HEADERS
                if no_store:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CorsFromSettings:
    """Starlette's CORSMiddleware for CORS_ALLOW_ORIGINS, or nothing when none are listed."""

    def __init__(self, app: ASGIApp, allowed_methods: list[str]) -> None:
        self.app = app
        self.allowed_methods = allowed_methods
        self._handler: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._handler is None:
            settings = scope["app"].state.settings
            self._handler = (
                CORSMiddleware(
                    self.app,
                    allow_origins=settings.cors_allow_origins,
                    allow_credentials=settings.cors_allow_credentials,
                    allow_methods=self.allowed_methods,
                    allow_headers=ALLOWED_HEADERS,
                    expose_headers=EXPOSED_HEADERS,
                    max_age=600,
                )
                if settings.cors_allow_origins
                else self.app
            )
        await self._handler(scope, receive, send)
