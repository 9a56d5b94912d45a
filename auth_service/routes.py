from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from auth_service.deps import AccountsDep, CurrentUser, SignedIn, signed_in
from auth_service.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    PasswordChange,
    Token,
    TokenVerification,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(prefix="/auth", tags=["auth"])

API_KEY_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "Sent with an API key: only a bearer token may do this"}
}


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


@router.patch(
    "/me",
    response_model=UserRead,
    responses={409: {"description": "Username or email already taken"}, **API_KEY_REFUSED},
)
async def update_me(
    body: UserUpdate, caller: Annotated[SignedIn, Depends(signed_in("change the profile"))], accounts: AccountsDep
) -> UserRead:
    return await accounts.update_profile(caller.user, body.username, body.email)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={400: {"description": "Current password is incorrect"}, **API_KEY_REFUSED},
)
async def change_password(
    body: PasswordChange,
    caller: Annotated[SignedIn, Depends(signed_in("change the password"))],
    accounts: AccountsDep,
) -> None:
    """Set a new password. Every token issued until now stops working, and every API key is deleted."""
    await accounts.change_password(caller.user, body.current_password, body.new_password)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=API_KEY_REFUSED)
async def logout(caller: Annotated[SignedIn, Depends(signed_in("sign out"))], accounts: AccountsDep) -> None:
    """Revoke this token at once, for every service (they all check tokens here)."""
    await accounts.logout(caller.user, caller.access_token)


@router.get("/verify", response_model=TokenVerification)
async def verify_token(user: CurrentUser) -> TokenVerification:
    """What other services call to check a bearer token or an API key and learn whose it is."""
    return TokenVerification(id=user.id, username=user.username, email=user.email)


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=API_KEY_REFUSED,
)
async def create_api_key(
    body: ApiKeyCreate,
    caller: Annotated[SignedIn, Depends(signed_in("create API keys"))],
    accounts: AccountsDep,
) -> ApiKeyCreated:
    """A key for a machine client, sent as `X-API-Key` instead of a bearer token, acting as you.

    The key is in this answer only: keep it. It cannot create keys, change the password or the
    profile, or sign out; a password change deletes every key.
    """
    return await accounts.create_api_key(caller.user, body.name)


@router.get("/api-keys", response_model=list[ApiKeyRead])
async def list_api_keys(user: CurrentUser, accounts: AccountsDep) -> list[ApiKeyRead]:
    """Your keys, oldest first, without the keys themselves."""
    return await accounts.list_api_keys(user)


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"description": "No such key of yours"}},
)
async def delete_api_key(key_id: int, user: CurrentUser, accounts: AccountsDep) -> None:
    """Delete a key: refused at once by every service."""
    await accounts.delete_api_key(user, key_id)
