"""Strict-Transport-Security on responses served over HTTPS, and only there.

A plain ASGI middleware (the per-request path stays free of BaseHTTPMiddleware). Over plain HTTP the
header would mean nothing to a browser and could be injected by anyone on the path, so it is never
sent there; `scope["scheme"]` is "https" when uvicorn terminates TLS itself (`api_gateway.serve_https`)
or when a trusted proxy in front says so with X-Forwarded-Proto (uvicorn's `--forwarded-allow-ips`).
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"strict-transport-security"


def hsts_value(max_age_seconds: int, include_subdomains: bool) -> bytes:
    return f"max-age={max_age_seconds}{'; includeSubDomains' if include_subdomains else ''}".encode()


class HSTSMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return
        # The settings are read in the lifespan, after the middleware is built.
        settings = scope["app"].state.settings
        value = hsts_value(settings.hsts_max_age_seconds, settings.hsts_include_subdomains)

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == HEADER for name, _ in headers):
                    headers.append((HEADER, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_hsts)
