"""Token checks for services that do not own users: every bearer token or API key is verified by the auth service.

With Redis configured, an answer is reused for a short while, for as long as the user's
revocation counter (see `common.revocations`) stays what it was before the answer was asked
for; a logout, a password change or a deleted API key is therefore refused on the very next
request, everywhere. A token names its user; an API key does not, so a key's first check on a
process only learns whose it is, and its answers are reused from the second check on.
"""

import base64
import binascii
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from redis.exceptions import RedisError

from common import request_id
from common.config import TokenCheckingSettings
from common.errors import Unauthorized, Unavailable, UpstreamTimeout
from common.http_client import create_http_client, timed_out_reading
from common.logging import OutageLog
from common.revocations import RevocationCounters, connect
from common.security_schemes import API_KEY_HEADER, api_key_scheme, bearer_scheme

logger = logging.getLogger(__name__)

MAX_CACHED_TOKENS = 10_000


@dataclass(frozen=True)
class AuthenticatedUser:
    id: int
    username: str
    email: str


@dataclass(frozen=True)
class Credential:
    """What the caller sent: a bearer token, or an API key."""

    value: str
    is_api_key: bool = False

    def header(self) -> tuple[str, str]:
        return (API_KEY_HEADER, self.value) if self.is_api_key else ("Authorization", f"Bearer {self.value}")


@dataclass(frozen=True)
class _CachedCheck:
    user: AuthenticatedUser
    counter: bytes | None
    valid_until: float


class VerifiedTokenCache:
    """Answers of the auth service, each valid for `lifetime_seconds` (never past the token's expiry)
    and only while its user's revocation counter is unchanged."""

    def __init__(self, counters: RevocationCounters, lifetime_seconds: float) -> None:
        self._counters = counters
        self._lifetime = lifetime_seconds
        self._checks: dict[Credential, _CachedCheck] = {}
        self._redis_outage = OutageLog(
            logger,
            "Redis unavailable; every token is checked with the auth service until it is back: %s",
            "Redis is back; verified tokens are reused again",
            back_level=logging.INFO,
        )

    async def verify(
        self,
        credential: Credential,
        ask_auth_service: Callable[[Credential], Awaitable[AuthenticatedUser]],
        hits: Counter,
    ) -> AuthenticatedUser:
        claims = self._claimed_owner(credential)
        if claims is None:
            user = await ask_auth_service(credential)
            if credential.is_api_key:
                # Whose key it is, for next time; never reused as an answer (no counter was read before it).
                self._remember(credential, _CachedCheck(user, None, 0.0))
            return user
        user_id, expires_at = claims
        try:
            counter = await self._counters.read(user_id)
        except RedisError as exc:
            self._redis_outage.failed(exc)
            return await ask_auth_service(credential)
        self._redis_outage.succeeded()
        cached = self._checks.get(credential)
        if cached is not None and cached.counter == counter and time.time() < cached.valid_until:
            hits.inc()
            return cached.user
        user = await ask_auth_service(credential)
        if user.id == user_id:
            self._remember(credential, _CachedCheck(user, counter, min(time.time() + self._lifetime, expires_at)))
        return user

    def _claimed_owner(self, credential: Credential) -> tuple[int, float] | None:
        """Whose revocation counter guards this credential, and until when it may be reused at most."""
        if not credential.is_api_key:
            return _unverified_claims(credential.value)
        # A key's owner never changes: learnt from the auth service's answer to an earlier check.
        known = self._checks.get(credential)
        return None if known is None else (known.user.id, math.inf)

    def _remember(self, credential: Credential, check: _CachedCheck) -> None:
        self._checks.pop(credential, None)
        if len(self._checks) >= MAX_CACHED_TOKENS:
            # Oldest first: dicts keep insertion order.
            del self._checks[next(iter(self._checks))]
        self._checks[credential] = check


def _unverified_claims(token: str) -> tuple[int, float] | None:
    """The token's user id and expiry as it claims them, without checking the signature.

    Used only to find the revocation counter to read; what a cached answer says comes from the
    auth service, which checked this very token.
    """
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return int(claims["sub"]), float(claims["exp"])
    except (IndexError, ValueError, TypeError, KeyError, binascii.Error):
        return None


class AuthServiceClient:
    """Checks tokens with the auth service through one pooled client, opened and closed in the lifespan."""

    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        revocations: RevocationCounters | None,
        cache_seconds: float,
        registry: CollectorRegistry,
    ) -> None:
        self._verify_url = base_url.rstrip("/") + "/auth/verify"
        self._http = create_http_client(httpx.Timeout(timeout_seconds))
        self._revocations = revocations
        self._cache = VerifiedTokenCache(revocations, cache_seconds) if revocations and cache_seconds else None
        checks = Counter(
            "token_checks_total",
            "Bearer tokens and API keys checked, by where the answer came from",
            ["source"],
            registry=registry,
        )
        self._answered_from_cache = checks.labels("cache")
        self._answered_by_auth_service = checks.labels("auth_service")
        self._latency = Histogram(
            "token_check_duration_seconds", "Time to check a bearer token, cache hits included", registry=registry
        )

    @classmethod
    def from_settings(cls, settings: TokenCheckingSettings, registry: CollectorRegistry) -> "AuthServiceClient":
        revocations = RevocationCounters(connect(settings.redis_url)) if settings.redis_url else None
        return cls(
            settings.auth_service_url,
            settings.auth_timeout_seconds,
            revocations,
            settings.token_cache_seconds,
            registry,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._revocations is not None:
            await self._revocations.aclose()

    async def verify(self, credential: Credential) -> AuthenticatedUser:
        """The credential's user; Unauthorized when the auth service refuses it, Unavailable when it cannot say."""
        started = time.perf_counter()
        try:
            if self._cache is None:
                return await self._ask_auth_service(credential)
            return await self._cache.verify(credential, self._ask_auth_service, self._answered_from_cache)
        finally:
            self._latency.observe(time.perf_counter() - started)

    async def _ask_auth_service(self, credential: Credential) -> AuthenticatedUser:
        self._answered_by_auth_service.inc()
        name, value = credential.header()
        try:
            response = await self._http.get(
                self._verify_url, headers={name: value, request_id.HEADER: request_id.current_request_id.get()}
            )
        except httpx.HTTPError as exc:
            if timed_out_reading(exc):
                logger.warning("Auth service timed out verifying a token")
                raise UpstreamTimeout("Auth service did not answer in time") from exc
            logger.warning("Auth service unreachable: %s", exc)
            raise Unavailable("Auth service is unavailable") from exc
        if response.status_code == 401:
            raise Unauthorized(_detail_of(response, "Could not validate credentials"))
        if response.status_code != 200:
            logger.error("Auth service answered %s to a token check", response.status_code)
            raise Unavailable("Auth service could not check the token")
        data = response.json()
        return AuthenticatedUser(id=int(data["id"]), username=data["username"], email=data["email"])


def _detail_of(response: httpx.Response, fallback: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return fallback
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else fallback


async def get_credential(
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Credential:
    """The bearer token or the API key sent (one of them, not both), still to be checked."""
    if token and api_key:
        raise Unauthorized("Send a bearer token or an API key, not both")
    credential = Credential(api_key, is_api_key=True) if api_key else Credential(token or "")
    if not credential.value:
        raise Unauthorized("Not authenticated")
    if not credential.value.isascii():
        # Tokens and keys are ASCII: this is none of ours, and could not be sent on as a header.
        raise Unauthorized("Invalid API key" if credential.is_api_key else "Could not validate credentials")
    return credential


Credentials = Annotated[Credential, Depends(get_credential)]


async def get_current_user(request: Request, credential: Credentials) -> AuthenticatedUser:
    auth_client: AuthServiceClient = request.app.state.auth_client
    return await auth_client.verify(credential)
