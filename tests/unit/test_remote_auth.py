"""The auth client's answers, for each thing the auth service can say or fail to say, on a stand-in transport."""

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import cast

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from redis.exceptions import ConnectionError as RedisConnectionError

from common import remote_auth
from common.config import TokenCheckingSettings
from common.errors import Unauthorized, Unavailable, UpstreamTimeout
from common.remote_auth import AuthenticatedUser, AuthServiceClient, Credential, VerifiedTokenCache, get_credential
from common.request_id import current_request_id
from common.revocations import RevocationCounters

pytestmark = pytest.mark.anyio

TOKEN = Credential("header.payload.signature")
KEY = Credential("tm_0123abcd_" + "k" * 43, is_api_key=True)
ALICE_ID = 7
ALICE = {"id": ALICE_ID, "username": "alice", "email": "alice@example.com"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def auth_client(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[AuthServiceClient, list[httpx.Request], CollectorRegistry]]:
    """A client whose requests reach `answer` instead of a network, the requests it sent and its metrics."""

    def make(
        answer: Callable[[httpx.Request], httpx.Response],
    ) -> tuple[AuthServiceClient, list[httpx.Request], CollectorRegistry]:
        sent: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return answer(request)

        monkeypatch.setattr(
            remote_auth,
            "create_http_client",
            lambda timeout: httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=timeout),
        )
        registry = CollectorRegistry()
        client = AuthServiceClient(
            "http://auth.internal:8001/", 2.5, revocations=None, cache_seconds=0, registry=registry
        )
        return client, sent, registry

    return make


def raising(error: type[httpx.RequestError]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error("stand-in failure", request=request)

    return answer


async def test_a_valid_token_is_the_user_the_auth_service_names(auth_client):
    client, sent, _ = auth_client(lambda request: httpx.Response(200, json=ALICE))
    token = current_request_id.set("trace-7")
    try:
        user = await client.verify(TOKEN)
    finally:
        current_request_id.reset(token)

    assert user == AuthenticatedUser(id=7, username="alice", email="alice@example.com")
    assert [str(request.url) for request in sent] == ["http://auth.internal:8001/auth/verify"]
    assert sent[0].method == "GET"
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN.value}"
    assert sent[0].headers["x-request-id"] == "trace-7"
    assert "x-api-key" not in sent[0].headers


async def test_an_api_key_is_sent_as_x_api_key(auth_client):
    client, sent, _ = auth_client(lambda request: httpx.Response(200, json=ALICE))

    await client.verify(KEY)

    assert sent[0].headers["x-api-key"] == KEY.value
    assert "authorization" not in sent[0].headers


async def test_the_client_waits_as_long_as_configured(auth_client):
    client, sent, _ = auth_client(lambda request: httpx.Response(200, json=ALICE))

    await client.verify(TOKEN)

    assert sent[0].extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        (httpx.Response(401, json={"detail": "Token has been revoked"}), "Token has been revoked"),
        (httpx.Response(401, text="no JSON here"), "Could not validate credentials"),
        (httpx.Response(401, json={"detail": [{"msg": "not a string"}]}), "Could not validate credentials"),
        (httpx.Response(401, json=["no detail"]), "Could not validate credentials"),
    ],
    ids=["its-detail", "not-json", "detail-not-a-string", "not-an-object"],
)
async def test_a_refusal_is_401_with_the_auth_services_detail_or_a_plain_one(auth_client, answer, detail):
    client, _, _ = auth_client(lambda request: answer)

    with pytest.raises(Unauthorized) as refused:
        await client.verify(TOKEN)

    assert refused.value.detail == detail


@pytest.mark.parametrize("status", [201, 403, 404, 500, 503])
async def test_any_other_answer_is_503_not_a_refusal_of_the_token(auth_client, status):
    client, _, _ = auth_client(lambda request: httpx.Response(status, json={"detail": "whatever"}))

    with pytest.raises(Unavailable) as unavailable:
        await client.verify(TOKEN)

    assert unavailable.value.detail == "Auth service could not check the token"
    assert not isinstance(unavailable.value, Unauthorized)


async def test_an_auth_service_that_does_not_answer_in_time_is_504(auth_client):
    client, _, _ = auth_client(raising(httpx.ReadTimeout))

    with pytest.raises(UpstreamTimeout) as timed_out:
        await client.verify(TOKEN)

    assert timed_out.value.detail == "Auth service did not answer in time"
    assert timed_out.value.status_code == 504


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError])
async def test_an_auth_service_that_cannot_be_reached_is_503(auth_client, error):
    client, _, _ = auth_client(raising(error))

    with pytest.raises(Unavailable) as unavailable:
        await client.verify(TOKEN)

    assert unavailable.value.detail == "Auth service is unavailable"
    assert not isinstance(unavailable.value, UpstreamTimeout)


def unsigned_token(user_id: int, expires_in: float = 3600) -> Credential:
    """A token naming its user and expiry as the auth service's do; the signature is the auth service's concern."""
    # Whole seconds, as the auth service writes them; encoded without the padding the reader must add back.
    claims = json.dumps({"sub": str(user_id), "exp": int(time.time() + expires_in)}).encode()
    return Credential(f"e30.{base64.urlsafe_b64encode(claims).decode().rstrip('=')}.signature")


class Counters:
    """Revocation counters as Redis keeps them, or a Redis that is away."""

    def __init__(self) -> None:
        self.values: dict[int, int] = {}
        self.away = False

    async def read(self, user_id: int) -> bytes | None:
        if self.away:
            raise RedisConnectionError("Connection refused")
        value = self.values.get(user_id)
        return None if value is None else str(value).encode()


class AuthService:
    def __init__(self) -> None:
        self.asked: list[Credential] = []

    async def __call__(self, credential: Credential) -> AuthenticatedUser:
        self.asked.append(credential)
        return AuthenticatedUser(ALICE_ID, "alice", "alice@example.com")


def cache_hits() -> Counter:
    return Counter("hits", "cache hits", registry=CollectorRegistry())


async def test_a_token_is_reused_while_its_users_counter_stays_and_asked_about_once_it_moves():
    counters, auth = Counters(), AuthService()
    counters.values[ALICE_ID] = 3
    cache, hits = VerifiedTokenCache(cast(RevocationCounters, counters), lifetime_seconds=30), cache_hits()
    token = unsigned_token(ALICE_ID)

    for _ in range(3):
        await cache.verify(token, auth, hits)
    counters.values[ALICE_ID] = 4
    await cache.verify(token, auth, hits)

    assert len(auth.asked) == 2
    assert hits._value.get() == 2


async def test_a_token_of_another_user_than_the_answer_is_never_reused():
    counters, auth = Counters(), AuthService()
    cache, hits = VerifiedTokenCache(cast(RevocationCounters, counters), lifetime_seconds=30), cache_hits()
    token = unsigned_token(ALICE_ID + 1)

    for _ in range(2):
        await cache.verify(token, auth, hits)

    assert len(auth.asked) == 2


async def test_while_redis_is_away_every_check_asks_and_the_outage_is_logged_once(caplog):
    counters, auth = Counters(), AuthService()
    cache, hits = VerifiedTokenCache(cast(RevocationCounters, counters), lifetime_seconds=30), cache_hits()
    token = unsigned_token(ALICE_ID)
    counters.away = True

    with caplog.at_level(logging.INFO, logger="common.remote_auth"):
        for _ in range(3):
            await cache.verify(token, auth, hits)
        counters.away = False
        for _ in range(2):
            await cache.verify(token, auth, hits)

    assert len(auth.asked) == 4
    assert [record.levelname for record in caplog.records] == ["WARNING", "INFO"]
    assert "Redis unavailable" in caplog.records[0].getMessage()
    assert "Redis is back" in caplog.records[1].getMessage()


async def test_each_check_is_counted_by_where_its_answer_came_from(auth_client):
    client, _, registry = auth_client(lambda request: httpx.Response(200, json=ALICE))

    for _ in range(2):
        await client.verify(TOKEN)

    assert registry.get_sample_value("token_checks_total", {"source": "auth_service"}) == 2
    assert registry.get_sample_value("token_checks_total", {"source": "cache"}) == 0
    assert registry.get_sample_value("token_check_duration_seconds_count") == 2


async def test_the_client_built_from_settings_asks_the_configured_service_and_counts_in_the_given_registry(auth_client):
    _, sent, _ = auth_client(lambda request: httpx.Response(200, json=ALICE))
    registry = CollectorRegistry()
    settings = TokenCheckingSettings(auth_service_url="http://auth.elsewhere:9001", auth_timeout_seconds=1.5)

    client = AuthServiceClient.from_settings(settings, registry)
    await client.verify(TOKEN)

    assert [str(request.url) for request in sent] == ["http://auth.elsewhere:9001/auth/verify"]
    assert sent[0].extensions["timeout"]["read"] == 1.5
    assert registry.get_sample_value("token_checks_total", {"source": "auth_service"}) == 1


@pytest.mark.parametrize(
    ("token", "api_key", "detail"),
    [
        (None, None, "Not authenticated"),
        ("", None, "Not authenticated"),
        ("é.é.é", None, "Could not validate credentials"),
        (None, "tm_é", "Invalid API key"),
    ],
    ids=["none", "empty", "token-not-ascii", "key-not-ascii"],
)
async def test_a_missing_or_non_ascii_credential_is_refused_before_any_check(token, api_key, detail):
    with pytest.raises(Unauthorized) as refused:
        await get_credential(token=token, api_key=api_key)

    assert refused.value.detail == detail
