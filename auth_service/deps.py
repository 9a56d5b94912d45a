from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from auth_service.models import User
from auth_service.security import AccessToken
from auth_service.services import AccountService
from common.errors import Forbidden, Unauthorized
from common.security_schemes import API_KEY_HEADER, api_key_scheme, bearer_scheme


# Dependencies are async: FastAPI runs a plain `def` one on a worker thread, a hop these do not need.
async def get_accounts(request: Request) -> AccountService:
    return request.app.state.accounts


AccountsDep = Annotated[AccountService, Depends(get_accounts)]


async def get_current_user(
    accounts: AccountsDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> User:
    """The user of the bearer token or of the `X-API-Key` sent (one of them, not both)."""
    if token and api_key:
        raise Unauthorized("Send a bearer token or an API key, not both")
    if api_key:
        return await accounts.user_of_api_key(api_key)
    if not token:
        raise Unauthorized("Not authenticated")
    return await accounts.current_user(accounts.read_token(token))


CurrentUser = Annotated[User, Depends(get_current_user)]


@dataclass(frozen=True)
class SignedIn:
    """A user signed in with their password: the bearer token and whose it is."""

    user: User
    access_token: AccessToken


def signed_in(action: str) -> Callable[..., Awaitable[SignedIn]]:
    """A dependency for what only a bearer token may do; an API key is refused (403), saying so."""

    async def dependency(
        request: Request, accounts: AccountsDep, token: Annotated[str | None, Depends(bearer_scheme)]
    ) -> SignedIn:
        if API_KEY_HEADER in request.headers:
            raise Forbidden(f"An API key cannot {action}: sign in with your password and use the bearer token")
        if not token:
            raise Unauthorized("Not authenticated")
        access_token = accounts.read_token(token)
        return SignedIn(await accounts.current_user(access_token), access_token)

    return dependency
