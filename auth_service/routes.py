from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from auth_service.deps import AccessTokenDep, CurrentUser, HasherDep, SessionDep, TokenIssuerDep
from auth_service.models import RevokedToken, User
from auth_service.schemas import PasswordChange, Token, TokenVerification, UserCreate, UserRead, UserUpdate
from common.db import utcnow

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Username or email already registered"}},
)
async def register(body: UserCreate, session: SessionDep, hasher: HasherDep) -> User:
    email = body.email.lower()
    await run_in_threadpool(_ensure_available, session, body.username, email)
    hashed_password = await hasher.hash(body.password)
    return await run_in_threadpool(_insert_user, session, body.username, email, hashed_password)


def _insert_user(session: SessionDep, username: str, email: str, hashed_password: str) -> User:
    user = User(username=username, email=email, hashed_password=hashed_password)
    session.add(user)
    _commit_unless_taken(session, username, email)
    session.refresh(user)
    return user


def _ensure_available(
    session: SessionDep, username: str | None, email: str | None, except_user_id: int | None = None
) -> None:
    """409 when another user has `username` or `email` (in any case)."""
    for field, column, value in (("Username", User.username, username), ("Email", User.email, email)):
        if value is None:
            continue
        taken_by = session.scalar(select(User.id).where(func.lower(column) == value.lower()))
        if taken_by is not None and taken_by != except_user_id:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{field} already registered")


def _commit_unless_taken(
    session: SessionDep, username: str | None, email: str | None, except_user_id: int | None = None
) -> None:
    """Commit, or 409 when another request took the name or email between our check and our write."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        _ensure_available(session, username, email, except_user_id)
        raise


@router.post("/login", response_model=Token, responses={401: {"description": "Incorrect username or password"}})
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    hasher: HasherDep,
    issuer: TokenIssuerDep,
) -> Token:
    user = await run_in_threadpool(_find_by_login_name, session, form.username)
    if not await hasher.verify(form.password, user.hashed_password if user else None) or not user.is_active:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Incorrect username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    return Token(access_token=issuer.issue(user.id, user.token_version))


def _find_by_login_name(session: SessionDep, login_name: str) -> User | None:
    """The user whose username or email this is, in any case."""
    login_name = login_name.strip().lower()
    return session.scalar(
        select(User).where(or_(func.lower(User.username) == login_name, func.lower(User.email) == login_name))
    )


@router.get("/me", response_model=UserRead)
def read_me(user: CurrentUser) -> User:
    return user


@router.patch("/me", response_model=UserRead, responses={409: {"description": "Username or email already taken"}})
def update_me(body: UserUpdate, user: CurrentUser, session: SessionDep) -> User:
    changes = body.model_dump(exclude_unset=True)
    if "email" in changes:
        changes["email"] = changes["email"].lower()
    _ensure_available(session, changes.get("username"), changes.get("email"), except_user_id=user.id)
    for field, value in changes.items():
        setattr(user, field, value)
    _commit_unless_taken(session, changes.get("username"), changes.get("email"), except_user_id=user.id)
    return user


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={400: {"description": "Current password is incorrect"}},
)
async def change_password(body: PasswordChange, user: CurrentUser, session: SessionDep, hasher: HasherDep) -> None:
    """Set a new password. Every token issued until now stops working: log in again."""
    if not await hasher.verify(body.current_password, user.hashed_password):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Current password is incorrect")
    hashed_password = await hasher.hash(body.new_password)
    await run_in_threadpool(_replace_password, session, user, hashed_password)


def _replace_password(session: SessionDep, user: User, hashed_password: str) -> None:
    user.hashed_password = hashed_password
    user.token_version += 1
    session.commit()


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def logout(access_token: AccessTokenDep, user: CurrentUser, session: SessionDep) -> None:
    """Revoke this token at once, for every service (they all check tokens here)."""
    session.add(RevokedToken(token_id=access_token.token_id, expires_at=access_token.expires_at))
    # Expired tokens are refused anyway: their revocations are no longer needed.
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    session.commit()


@router.get("/verify", response_model=TokenVerification)
def verify_token(user: CurrentUser) -> TokenVerification:
    """What other services call to check a bearer token and learn whose it is."""
    return TokenVerification(id=user.id, username=user.username, email=user.email)
