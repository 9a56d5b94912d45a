"""Token checks for services that do not own users: every token is verified by the auth service."""

import logging
from dataclasses import dataclass

import httpx
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from common import request_id
from common.http_client import create_http_client

logger = logging.getLogger(__name__)

# The same scheme as the auth service's, so one "Authorize" in the gateway's docs covers every service.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class AuthenticatedUser:
    id: int
    username: str
    email: str


class AuthServiceClient:
    """Checks tokens with the auth service through one pooled connection, opened and closed in the lifespan."""

    def __init__(self, base_url: str, timeout_seconds: float) -> None:
        self._verify_url = base_url.rstrip("/") + "/auth/verify"
        self._http = create_http_client(httpx.Timeout(timeout_seconds))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def verify(self, token: str) -> AuthenticatedUser:
        try:
            response = await self._http.get(
                self._verify_url,
                headers={"Authorization": f"Bearer {token}", request_id.HEADER: request_id.current_request_id.get()},
            )
        except httpx.TimeoutException as exc:
            logger.warning("Auth service timed out verifying a token")
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Auth service did not answer in time") from exc
        except httpx.HTTPError as exc:
            logger.warning("Auth service unreachable: %s", exc)
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Auth service is unavailable") from exc
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            detail = _detail_of(response, "Could not validate credentials")
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail, UNAUTHORIZED_HEADERS)
        if response.status_code != status.HTTP_200_OK:
            logger.error("Auth service answered %s to a token check", response.status_code)
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Auth service could not check the token")
        data = response.json()
        return AuthenticatedUser(id=int(data["id"]), username=data["username"], email=data["email"])


def _detail_of(response: httpx.Response, fallback: str) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return fallback
    return detail if isinstance(detail, str) else fallback


async def get_current_user(request: Request, token: str | None = Depends(bearer_scheme)) -> AuthenticatedUser:
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated", UNAUTHORIZED_HEADERS)
    auth_client: AuthServiceClient = request.app.state.auth_client
    return await auth_client.verify(token)
