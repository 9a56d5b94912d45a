from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from auth_service.deps import CurrentUser, HasherDep, SessionDep, TokenIssuerDep
from auth_service.models import User
from auth_service.schemas import Token, TokenVerification, UserCreate, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Username or email already registered"}},
)
def register(body: UserCreate, session: SessionDep, hasher: HasherDep) -> User:
    email = body.email.lower()
    _ensure_available(session, body.username, email)
    user = User(username=body.username, email=email, hashed_password=hasher.hash(body.password))
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        # Another registration took the name between our check and our insert.
        session.rollback()
        _ensure_available(session, body.username, email)
        raise
    session.refresh(user)
    return user


def _ensure_available(session: SessionDep, username: str, email: str) -> None:
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "Username already registered")
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "Email already registered")


@router.post("/login", response_model=Token, responses={401: {"description": "Incorrect username or password"}})
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    hasher: HasherDep,
    issuer: TokenIssuerDep,
) -> Token:
    login_name = form.username.strip().lower()
    user = session.scalar(
        select(User).where(or_(func.lower(User.username) == login_name, func.lower(User.email) == login_name))
    )
    if not hasher.verify(form.password, user.hashed_password if user else None) or not user.is_active:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Incorrect username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    return Token(access_token=issuer.issue(user.id))


@router.get("/me", response_model=UserRead)
def read_me(user: CurrentUser) -> User:
    return user


@router.get("/verify", response_model=TokenVerification)
def verify_token(user: CurrentUser) -> TokenVerification:
    """What other services call to check a bearer token and learn whose it is."""
    return TokenVerification(id=user.id, username=user.username, email=user.email)
