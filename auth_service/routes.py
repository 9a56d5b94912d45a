from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from auth_service.deps import AccessTokenDep, AccountsDep, CurrentUser
from auth_service.schemas import PasswordChange, Token, TokenVerification, UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Username or email already registered"}},
)
async def register(body: UserCreate, accounts: AccountsDep) -> UserRead:
    return await accounts.register(body.username, body.email, body.password)


@router.post(
    "/login",
    response_model=Token,
    responses={
        401: {"description": "Incorrect username or password"},
        503: {"description": "Too many sign-ins at once; retry after `Retry-After` seconds"},
    },
)
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], accounts: AccountsDep) -> Token:
    return Token(access_token=await accounts.login(form.username, form.password))


@router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.patch("/me", response_model=UserRead, responses={409: {"description": "Username or email already taken"}})
async def update_me(body: UserUpdate, user: CurrentUser, accounts: AccountsDep) -> UserRead:
    return await accounts.update_profile(user, body.username, body.email)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={400: {"description": "Current password is incorrect"}},
)
async def change_password(body: PasswordChange, user: CurrentUser, accounts: AccountsDep) -> None:
    """Set a new password. Every token issued until now stops working: log in again."""
    await accounts.change_password(user, body.current_password, body.new_password)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(access_token: AccessTokenDep, user: CurrentUser, accounts: AccountsDep) -> None:
    """Revoke this token at once, for every service (they all check tokens here)."""
    await accounts.logout(user, access_token)


@router.get("/verify", response_model=TokenVerification)
async def verify_token(user: CurrentUser) -> TokenVerification:
    """What other services call to check a bearer token and learn whose it is."""
    return TokenVerification(id=user.id, username=user.username, email=user.email)
