"""The account rules, apart from HTTP: unique names, password checks, token issue and revocation.

Database work runs on a worker thread in a session of its own, closed before anything slow is
awaited: a password hash, or Redis. After each change that alters what a token check answers
(logout, password change, new username or email), the user's revocation counter is raised, so
services that cache token checks ask again on their next request. API keys are checked
here too, and their changes raise the same counter: deleting a key, and a password change,
which deletes every key of the user (one made by whoever knew the old password must not outlive it).
"""

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auth_service.api_keys import api_key_matches, api_key_prefix, new_api_key
from auth_service.models import ApiKey, RevokedToken, User
from auth_service.schemas import MAX_LOGIN_NAME_LENGTH, ApiKeyCreated, ApiKeyRead, UserRead
from auth_service.security import AccessToken, PasswordHasher, TokenIssuer
from common.db import Database, utcnow
from common.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from common.revocations import RevocationCounters


class InvalidCredentials(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Incorrect username or password")


class InvalidToken(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Could not validate credentials")


class InvalidApiKey(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Invalid API key")


class ApiKeyNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("API key not found")


# `last_used_at` is written at most this often per key, so a busy key costs no write per request.
LAST_USED_PRECISION = timedelta(minutes=1)
# Attempts at a prefix no other key has (8 hex digits: a clash is rare, and retried).
PREFIX_ATTEMPTS = 5
MAX_ROW_ID = 2**31 - 1


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
            # Keys made by whoever knew the old password must not outlive it.
            session.execute(delete(ApiKey).where(ApiKey.user_id == user.id))
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

    async def create_api_key(self, user: User, name: str) -> ApiKeyCreated:
        def insert(session: Session) -> ApiKeyCreated:
            for attempt in range(PREFIX_ATTEMPTS):
                new = new_api_key()
                api_key = ApiKey(user_id=user.id, name=name, prefix=new.prefix, key_hash=new.key_hash)
                session.add(api_key)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    if attempt == PREFIX_ATTEMPTS - 1:
                        raise
                    continue
                return ApiKeyCreated(
                    id=api_key.id, name=api_key.name, key=new.key, prefix=api_key.prefix, created_at=api_key.created_at
                )
            raise AssertionError("unreachable")

        return await self._database.run_in_thread(insert)

    async def list_api_keys(self, user: User) -> list[ApiKeyRead]:
        def listing(session: Session) -> list[ApiKeyRead]:
            keys = session.scalars(select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.id))
            return [ApiKeyRead.model_validate(api_key) for api_key in keys]

        return await self._database.run_in_thread(listing, read_only=True)

    async def delete_api_key(self, user: User, key_id: int) -> None:
        """Refused at once everywhere: the user's counter is raised after the delete commits."""

        if not 0 < key_id <= MAX_ROW_ID:
            # Past PostgreSQL's integer: no such key (and no query that would fail on it).
            raise ApiKeyNotFound()

        def remove(session: Session) -> None:
            # Another user's key is as unknown as a key that never was.
            deleted = cast(
                CursorResult, session.execute(delete(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user.id))
            )
            if deleted.rowcount == 0:
                raise ApiKeyNotFound()
            session.commit()

        await self._database.run_in_thread(remove)
        await self._announce_revocation(user.id)

    async def user_of_api_key(self, key: str) -> User:
        """The key's user, unless the key is malformed, unknown or deleted, or the user inactive.

        One query; `last_used_at` is then written only when it is over a minute old.
        """
        prefix = api_key_prefix(key)
        if prefix is None:
            raise InvalidApiKey()

        def lookup(session: Session) -> tuple[User, ApiKey]:
            row = session.execute(
                select(User, ApiKey).join(ApiKey, ApiKey.user_id == User.id).where(ApiKey.prefix == prefix)
            ).first()
            if row is None:
                raise InvalidApiKey()
            user, api_key = row
            if not api_key_matches(key, api_key.key_hash) or not user.is_active:
                raise InvalidApiKey()
            return user, api_key

        user, api_key = await self._database.run_in_thread(lookup, read_only=True)
        now = utcnow()
        if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_PRECISION:
            await self._database.run_in_thread(lambda session: _note_use(session, api_key.id, now))
        return user

    async def _announce_revocation(self, user_id: int) -> None:
        if self._revocations is not None:
            await self._revocations.raise_for(user_id)


def _note_use(session: Session, key_id: int, now: datetime) -> None:
    """Set `last_used_at`, unless another request (on any replica) did within the last minute."""
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_PRECISION),
        )
        .values(last_used_at=now)
    )
    session.commit()


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
