"""Rate limits at the gateway: sign-ins and registrations per client address, sign-ins per account name,
and (when set) every request per client address.

The counters are moving windows from the `limits` library, in Redis when REDIS_URL is set (so every
gateway replica spends one shared budget) and in this process otherwise. A refused request is
answered 429 with `Retry-After`; every response of a limited path carries the IETF draft's
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`. While Redis is unreachable, requests
pass unlimited (one warning per outage) rather than fail.
"""

import hashlib
import ipaddress
import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as redis
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api_gateway.config import Networks, Settings
from common.http import UNLIMITED_PATHS
from common.logging import OutageLog
from common.redis_pool import connection_pool

logger = logging.getLogger(__name__)

KEY_PREFIX = "gateway:ratelimit"
# After a failed Redis call, requests pass unlimited this long before Redis is tried again.
OUTAGE_RETRY_SECONDS = 1.0
LOGIN_PATH = "/auth/login"
REGISTER_PATH = "/auth/register"


@dataclass(frozen=True)
class Rule:
    """One named limit: its windows, and what the counter is kept per (`address` or `account`)."""

    name: str
    items: tuple[RateLimitItem, ...]
    per: str


def _rule(name: str, text: str, per: str) -> Rule | None:
    return Rule(name, tuple(parse_many(text)), per) if text else None


@dataclass
class Verdict:
    rule: str
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_seconds).encode()),
        ]
        if not self.allowed:
            headers.append((b"retry-after", str(self.reset_seconds).encode()))
        return headers


class RateLimiter:
    """The configured rules and where their counters live; made in the lifespan, closed at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.trusted_proxies: Networks = settings.trusted_proxies
        self.max_body_bytes = settings.max_request_body_bytes
        self.login = [
            rule
            for rule in (
                _rule("login", settings.login_rate_limit, "address"),
                _rule("login_account", settings.login_account_rate_limit, "account"),
            )
            if rule
        ]
        self.register = [rule for rule in (_rule("register", settings.register_rate_limit, "address"),) if rule]
        self.general = [rule for rule in (_rule("general", settings.rate_limit, "address"),) if rule]
        self._pool: redis.BlockingConnectionPool | None = None
        storage: Storage
        if settings.redis_url:
            self._pool = connection_pool(settings.redis_url)
            # `limits` would use coredis by default; redis-py is what the services already run.
            storage = RedisStorage(
                _storage_uri(settings.redis_url),
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                # Typed as scalar options by `limits`, but passed on to redis-py as they are.
                connection_pool=cast(Any, self._pool),
            )
        else:
            storage = MemoryStorage()
        self.storage = storage
        self.shared = settings.redis_url is not None
        self._strategy = MovingWindowRateLimiter(storage)
        self._down_until = 0.0
        self._storage_outage = OutageLog(
            logger,
            "Rate limit storage unreachable, requests pass unlimited until it is back: %s",
            "Rate limit storage reachable again: limits apply",
        )

    def rules_for(self, method: str, path: str) -> list[Rule]:
        # An orchestrator's probes and a metrics scraper are never throttled, as admission never refuses them.
        rules = [] if path in UNLIMITED_PATHS else list(self.general)
        if method == "POST" and path == LOGIN_PATH:
            rules += self.login
        elif method == "POST" and path == REGISTER_PATH:
            rules += self.register
        return rules

    def client_address(self, scope: Scope) -> str:
        """The peer's address, or the right-most untrusted X-Forwarded-For entry when the peer is a trusted proxy."""
        peer = scope["client"][0] if scope.get("client") else ""
        if not self.trusted_proxies or not self._is_trusted(peer):
            return peer
        forwarded = b",".join(value for name, value in scope["headers"] if name == b"x-forwarded-for")
        hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        # Every hop is one of ours: the left-most is as close to the client as anyone knows.
        return hops[0] if hops else peer

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)

    async def check(self, rules: list[Rule], address: str, account: str | None) -> Verdict | None:
        """Spend one request of each rule; the verdict of the tightest, or None while the storage is away."""
        if self.shared and time.monotonic() < self._down_until:
            return None
        try:
            verdict = await self._check(rules, address, account)
        except Exception as exc:  # a storage error must never fail the request
            self._down_until = time.monotonic() + OUTAGE_RETRY_SECONDS
            self._storage_outage.failed(exc)
            return None
        self._storage_outage.succeeded()
        return verdict

    async def _check(self, rules: list[Rule], address: str, account: str | None) -> Verdict | None:
        tightest: Verdict | None = None
        now = time.time()
        for rule in rules:
            identifier = address if rule.per == "address" else _account_key(account or "")
            for item in rule.items:
                allowed = await self._strategy.hit(item, rule.name, identifier)
                stats = await self._strategy.get_window_stats(item, rule.name, identifier)
                verdict = Verdict(
                    rule.name, allowed, item.amount, max(stats.remaining, 0), max(1, math.ceil(stats.reset_time - now))
                )
                if not allowed:
                    return verdict
                if tightest is None or verdict.remaining < tightest.remaining:
                    tightest = verdict
        return tightest

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


def _storage_uri(redis_url: str) -> str:
    """The `limits` storage URI for a redis-py URL (redis://, rediss:// or unix://)."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


def _account_key(name: str) -> str:
    # Hashed: account names stay out of Redis, and no character of theirs can shape the key.
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()


class RateLimitMiddleware:
    """Applies the app's RateLimiter (`app.state.rate_limiter`) before the request reaches the proxy.

    Refusals are counted in `app.state.rate_limit_refusals` (a Prometheus counter by rule) when present.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter: RateLimiter | None = getattr(scope["app"].state, "rate_limiter", None) if "app" in scope else None
        if scope["type"] != "http" or limiter is None:
            await self.app(scope, receive, send)
            return
        rules = limiter.rules_for(scope["method"], scope["path"])
        if not rules:
            await self.app(scope, receive, send)
            return
        account = None
        if any(rule.per == "account" for rule in rules):
            receive, account = await _read_account_name(scope, receive, limiter.max_body_bytes)
        verdict = await limiter.check(rules, limiter.client_address(scope), account)
        if verdict is None:
            await self.app(scope, receive, send)
            return
        if not verdict.allowed:
            refusals = getattr(scope["app"].state, "rate_limit_refusals", None)
            if refusals is not None:
                refusals.labels(verdict.rule).inc()
            await _send_429(send, verdict)
            return
        extra = verdict.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _read_account_name(scope: Scope, receive: Receive, max_body_bytes: int) -> tuple[Receive, str | None]:
    """The login form's `username`, and a receive that replays the body for the proxy to read again.

    Past `max_body_bytes` the body is not parsed; the proxy refuses it with 413 all the same.
    """
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False) or size > max_body_bytes:
            break
    replayed = list(messages)

    async def replay() -> Message:
        if replayed:
            return replayed.pop(0)
        return await receive()

    complete = messages[-1]["type"] == "http.request" and not messages[-1].get("more_body", False)
    if not complete or size > max_body_bytes:
        return replay, None
    body = b"".join(message.get("body", b"") for message in messages)
    return replay, await _username_in(scope, body)


async def _username_in(scope: Scope, body: bytes) -> str | None:
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    # The same form parser the auth service's endpoint uses, so both read the same name.
    try:
        form = await Request(scope, once).form()
    except Exception:  # an unreadable form: the auth service refuses it too
        return None
    username = form.get("username")
    return username if isinstance(username, str) else None


async def _send_429(send: Send, verdict: Verdict) -> None:
    payload = json.dumps({"detail": f"Too many requests; retry in {verdict.reset_seconds} s"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *verdict.headers(),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
