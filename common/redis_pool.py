"""The Redis connection pool of every process that uses Redis (revocation counters, rate-limit counters)."""

import redis.asyncio as redis

REDIS_TIMEOUT_SECONDS = 0.5
# Each command takes a fraction of a millisecond: a few connections serve hundreds of requests at
# once, which wait (up to the timeout) for a free one rather than fail.
MAX_REDIS_CONNECTIONS = 32


def connection_pool(redis_url: str) -> redis.BlockingConnectionPool:
    return redis.BlockingConnectionPool.from_url(
        redis_url,
        max_connections=MAX_REDIS_CONNECTIONS,
        timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
