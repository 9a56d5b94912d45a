import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import anyio
from jose import JOSEError, jwt
from passlib.context import CryptContext

from auth_service.schemas import BCRYPT_MAX_BYTES
from common.db import utcnow
from common.errors import Unavailable

T = TypeVar("T")


class HasherBusy(Unavailable):
    def __init__(self) -> None:
        super().__init__("Too many sign-ins at once; retry shortly", retry_after_seconds=2)


class PasswordHasher:
    """bcrypt on worker threads of its own, at most `concurrency` at a time.

    A sign-in first takes a place (`place()`): at most `concurrency + queue_limit` are held at
    once, and past that a request is refused at once (HasherBusy, a 503), before it has cost a
    database query. Requests waiting for a hash wait on the event loop, holding neither a worker
    thread nor a database connection, so a burst of logins cannot starve /auth/verify, which
    every other service calls per request.
    """

    def __init__(self, rounds: int, concurrency: int, queue_limit: int) -> None:
        self._context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._places = concurrency + queue_limit
        self._taken = 0
        # Checked when the user is unknown, so a wrong name costs as long as a wrong password.
        self._decoy_hash = self._context.hash("decoy-password")

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        if self._taken >= self._places:
            raise HasherBusy()
        self._taken += 1
        try:
            yield
        finally:
            self._taken -= 1

    async def hash(self, password: str) -> str:
        return await self._run(self._context.hash, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        # bcrypt 5 raises past 72 bytes and on a NUL byte; such a password can never have been
        # registered, and is checked against the decoy so it is refused like any wrong one.
        if hashed is None or len(password.encode()) > BCRYPT_MAX_BYTES or "\x00" in password:
            await self._run(self._context.verify, "decoy-password", self._decoy_hash)
            return False
        return await self._run(self._context.verify, password, hashed)

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)


@dataclass(frozen=True)
class AccessToken:
    """The claims of a token that is well-formed, correctly signed and not expired."""

    user_id: int
    token_id: str
    version: int
    expires_at: datetime


class TokenIssuer:
    def __init__(self, secret: str, algorithm: str, lifetime: timedelta) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._lifetime = lifetime

    def issue(self, user_id: int, version: int) -> str:
        now = utcnow()
        claims = {
            "sub": str(user_id),
            "iat": now,
            "exp": now + self._lifetime,
            "jti": uuid.uuid4().hex,
            "ver": version,
        }
        return jwt.encode(claims, self._secret, algorithm=self._algorithm)

    def read(self, token: str) -> AccessToken | None:
        """The claims of `token`, or None for anything but a valid, unexpired token of ours."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                options={"require_exp": True, "require_sub": True, "require_jti": True},
            )
            return AccessToken(
                user_id=int(claims["sub"]),
                token_id=str(claims["jti"]),
                version=int(claims["ver"]),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            )
        except (JOSEError, ValueError, TypeError, KeyError):
            return None
