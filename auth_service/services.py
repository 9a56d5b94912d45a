"""The account rules, apart from HTTP: unique names, password checks, token issue and revocation.

Database work runs on a worker thread in a session of its own, closed before anything slow is
awaited: a password hash, or Redis. After each change that alters what a token check answers
(logout, password change, new username or email), the user's revocation counter is raised, so
services that cache token checks ask again on their next request.
"""

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auth_service.models import RevokedToken, User
from auth_service.schemas import MAX_LOGIN_NAME_LENGTH, UserRead
from auth_service.security import AccessToken, PasswordHasher, TokenIssuer
from common.db import Database, utcnow
from common.errors import Conflict, InvalidRequest, Unauthorized
from common.revocations import RevocationCounters


class InvalidCredentials(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Incorrect username or password")


class InvalidToken(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Could not validate credentials")


class IncorrectPassword(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("Current password is incorrect")


class AlreadyRegistered(Conflict):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} already registered")


class AccountService:
    def __init__(
        self,
        database: Database,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        revocations: RevocationCounters | None,
    ) -> None:
        self._database = database
        self.hasher = hasher
        self._issuer = issuer
        self._revocations = revocations

    async def register(self, username: str, email: str, password: str) -> UserRead:
        email = email.lower()
        async with self.hasher.place():
            await self._database.run_in_thread(lambda session: _ensure_available(session, username, email))
            hashed_password = await self.hasher.hash(password)

        def insert(session: Session) -> UserRead:
            user = User(username=username, email=email, hashed_password=hashed_password)
            session.add(user)
            _commit_unless_taken(session, username, email)
            return UserRead.model_validate(user)

        return await self._database.run_in_thread(insert)

    async def login(self, login_name: str, password: str) -> str:
        """A new access token; InvalidCredentials for an unknown name, a wrong password or an inactive user."""
        async with self.hasher.place():
            user = await self._database.run_in_thread(lambda session: _find_by_login_name(session, login_name))
            matches = await self.hasher.verify(password, user.hashed_password if user else None)
        if not matches or user is None or not user.is_active:
            raise InvalidCredentials()
        return self._issuer.issue(user.id, user.token_version)

    def read_token(self, token: str) -> AccessToken:
        access_token = self._issuer.read(token)
        if access_token is None:
            raise InvalidToken()
        return access_token

    async def current_user(self, access_token: AccessToken) -> User:
        """The token's user, unless the user is gone or inactive, or the token was signed out or superseded.

        One query: the user and whether this token was revoked, together.
        """

        def lookup(session: Session) -> User:
            revoked = exists().where(RevokedToken.token_id == access_token.token_id)
            row = session.execute(select(User, revoked).where(User.id == access_token.user_id)).first()
            if row is None:
                raise InvalidToken()
            user, is_revoked = row
            if is_revoked or not user.is_active or user.token_version != access_token.version:
                raise InvalidToken()
            return user

        return await self._database.run_in_thread(lookup, read_only=True)

    async def update_profile(self, user: User, username: str | None, email: str | None) -> UserRead:
        email = email.lower() if email is not None else None

        def update(session: Session) -> UserRead:
            _ensure_available(session, username, email, except_user_id=user.id)
            stored = session.get_one(User, user.id)
            if username is not None:
                stored.username = username
            if email is not None:
                stored.email = email
            _commit_unless_taken(session, username, email, except_user_id=user.id)
            return UserRead.model_validate(stored)

        updated = await self._database.run_in_thread(update)
        await self._announce_revocation(user.id)
        return updated

    async def change_password(self, user: User, current_password: str, new_password: str) -> None:
        """Every token issued until now stops working."""
        async with self.hasher.place():
            if not await self.hasher.verify(current_password, user.hashed_password):
                raise IncorrectPassword()
            hashed_password = await self.hasher.hash(new_password)

        def replace(session: Session) -> None:
            stored = session.get_one(User, user.id)
            stored.hashed_password = hashed_password
            stored.token_version = User.token_version + 1
            session.commit()

        await self._database.run_in_thread(replace)
        await self._announce_revocation(user.id)

    async def logout(self, user: User, access_token: AccessToken) -> None:
        def revoke(session: Session) -> None:
            session.add(RevokedToken(token_id=access_token.token_id, expires_at=access_token.expires_at))
            # Expired tokens are refused anyway: their revocations are no longer needed.
            session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
            session.commit()

        await self._database.run_in_thread(revoke)
        await self._announce_revocation(user.id)

    async def _announce_revocation(self, user_id: int) -> None:
        if self._revocations is not None:
            await self._revocations.raise_for(user_id)


def _find_by_login_name(session: Session, login_name: str) -> User | None:
    """The user whose username or email this is, in any case; None for a name no account can have."""
    login_name = login_name.strip().lower()
    # PostgreSQL refuses a NUL in a query parameter: such a name is simply unknown (the decoy check follows).
    if "\x00" in login_name or len(login_name) > MAX_LOGIN_NAME_LENGTH:
        return None
    return session.scalar(
        select(User).where(or_(func.lower(User.username) == login_name, func.lower(User.email) == login_name))
    )


def _ensure_available(
    session: Session, username: str | None, email: str | None, except_user_id: int | None = None
) -> None:
    """AlreadyRegistered when another user has `username` or `email` (in any case)."""
    for field, column, value in (("Username", User.username, username), ("Email", User.email, email)):
        if value is None:
            continue
        taken_by = session.scalar(select(User.id).where(func.lower(column) == value.lower()))
        if taken_by is not None and taken_by != except_user_id:
            raise AlreadyRegistered(field)


def _commit_unless_taken(
    session: Session, username: str | None, email: str | None, except_user_id: int | None = None
) -> None:
    """Commit, or AlreadyRegistered when another request took the name or email between our check and our write."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        _ensure_available(session, username, email, except_user_id)
        raise
