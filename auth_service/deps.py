from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from auth_service.models import User
from auth_service.security import PasswordHasher, TokenIssuer
from common.db import get_db

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)

SessionDep = Annotated[Session, Depends(get_db)]


def get_hasher(request: Request) -> PasswordHasher:
    return request.app.state.hasher


def get_token_issuer(request: Request) -> TokenIssuer:
    return request.app.state.token_issuer


HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
TokenIssuerDep = Annotated[TokenIssuer, Depends(get_token_issuer)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def get_current_user(
    session: SessionDep, issuer: TokenIssuerDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    if not token:
        raise _unauthorized("Not authenticated")
    user_id = issuer.user_id_from(token)
    if user_id is None:
        raise _unauthorized("Could not validate credentials")
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise _unauthorized("Could not validate credentials")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
