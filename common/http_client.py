"""The pooled HTTP client of the services that call others (not the auth service, which calls none)."""

import httpx


def create_http_client(timeout: httpx.Timeout, max_connections: int = 100) -> httpx.AsyncClient:
    """The one pooled client a process uses for every call to another service.

    Its keep-alive expiry stays under the services' `--timeout-keep-alive 75`, so the client
    drops an idle connection before the server does; proxy variables are ignored on purpose.
    """
    return httpx.AsyncClient(
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections, keepalive_expiry=30
        ),
        trust_env=False,
    )
