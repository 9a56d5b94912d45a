from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from auth_service.models import RevokedToken, User
from auth_service.security import AccessToken, PasswordHasher, TokenIssuer
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


def get_access_token(issuer: TokenIssuerDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> AccessToken:
    if not token:
        raise _unauthorized("Not authenticated")
    access_token = issuer.read(token)
    if access_token is None:
        raise _unauthorized("Could not validate credentials")
    return access_token


AccessTokenDep = Annotated[AccessToken, Depends(get_access_token)]


def get_current_user(session: SessionDep, access_token: AccessTokenDep) -> User:
    """The token's user, unless the user is gone or inactive, or the token was signed out or superseded."""
    user = session.get(User, access_token.user_id)
    if (
        user is None
        or not user.is_active
        or user.token_version != access_token.version
        or session.get(RevokedToken, access_token.token_id) is not None
    ):
        raise _unauthorized("Could not validate credentials")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
