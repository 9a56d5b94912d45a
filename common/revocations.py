"""Per-user revocation counters in Redis: how services that cache token checks learn of a revocation.

The auth service raises a user's counter right after it commits anything that changes what a
token or API key check of theirs answers: a logout, a password change (which deletes their API
keys too), a new username or email, a deleted API key. A service that caches verified tokens
reads the counter before asking the auth service, stores the answer with it, and reuses the
answer only while the counter is unchanged. So the request after a
logout, on any replica, sees a new counter and asks the auth service again, which refuses it.
"""

import logging

import redis.asyncio as redis
from redis.exceptions import RedisError

from common.redis_pool import connection_pool

logger = logging.getLogger(__name__)

KEY_PREFIX = "auth:revocations:"
# Longer than any token lives, so a counter never disappears under a token cached with it.
KEY_LIFETIME_SECONDS = 2 * 24 * 3600


def connect(redis_url: str) -> redis.Redis:
    return redis.Redis(connection_pool=connection_pool(redis_url))


class RevocationCounters:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    async def read(self, user_id: int) -> bytes | None:
        """The user's counter (None before their first revocation); raises RedisError when Redis is away."""
        counter = await self._redis.get(KEY_PREFIX + str(user_id))
        # The client returns bytes (responses are not decoded); a str would be the same counter.
        return counter.encode() if isinstance(counter, str) else counter

    async def raise_for(self, user_id: int) -> None:
        """Tell every caching service that the user's verified tokens must be checked again."""
        try:
            async with self._redis.pipeline(transaction=True) as pipeline:
                pipeline.incr(KEY_PREFIX + str(user_id))
                pipeline.expire(KEY_PREFIX + str(user_id), KEY_LIFETIME_SECONDS)
                await pipeline.execute()
        except RedisError as exc:
            # The change is committed; caches still drop it within their lifetime (TOKEN_CACHE_SECONDS).
            logger.error("Could not publish a revocation for user %s to Redis: %s", user_id, exc)

    async def aclose(self) -> None:
        await self._redis.aclose(close_connection_pool=True)
