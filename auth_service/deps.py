from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from auth_service.models import User
from auth_service.security import AccessToken
from auth_service.services import AccountService
from common.errors import Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)


# Dependencies are async: FastAPI runs a plain `def` one on a worker thread, a hop these do not need.
async def get_accounts(request: Request) -> AccountService:
    return request.app.state.accounts


AccountsDep = Annotated[AccountService, Depends(get_accounts)]


async def get_access_token(accounts: AccountsDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> AccessToken:
    if not token:
        raise Unauthorized("Not authenticated")
    return accounts.read_token(token)


AccessTokenDep = Annotated[AccessToken, Depends(get_access_token)]


async def get_current_user(accounts: AccountsDep, access_token: AccessTokenDep) -> User:
    return await accounts.current_user(access_token)


CurrentUser = Annotated[User, Depends(get_current_user)]
