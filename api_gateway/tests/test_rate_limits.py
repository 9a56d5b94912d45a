"""Rate limits, security headers and CORS at the gateway, in front of a small stand-in auth service.

The stand-in runs under uvicorn on a port of its own and answers a login with the account name it
read, so these tests also prove the gateway hands the service the body it read to find that name.
Shared counters live in TEST_REDIS_URL (database 6 unless told); only this suite's keys are removed.
"""

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis
import uvicorn
from fastapi import FastAPI, Form, Request
from fastapi.testclient import TestClient
from limits.aio.storage import MemoryStorage, RedisStorage

from api_gateway.config import Settings
from api_gateway.main import create_app
from api_gateway.rate_limit import KEY_PREFIX, RateLimiter
from tests.helpers import CLOSED_REDIS_PORT, RATE_LIMIT_PORT, RunningService, app_state

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
UPSTREAM_PORT = RATE_LIMIT_PORT
GATEWAY_PORTS = (UPSTREAM_PORT + 1, UPSTREAM_PORT + 2)
CLOSED_PORT_URL = "http://127.0.0.1:1"
# Nothing listens here: a Redis that is away.
UNREACHABLE_REDIS_URL = f"redis://127.0.0.1:{CLOSED_REDIS_PORT}/0"


def stand_in_auth_service() -> FastAPI:
    app = FastAPI()

    @app.post("/auth/login")
    async def login(username: str = Form(), password: str = Form()) -> dict:
        return {"username": username}

    @app.post("/auth/register", status_code=201)
    async def register() -> dict:
        return {"id": 1}

    @app.get("/auth/me")
    async def me(request: Request) -> dict:
        return {"username": "someone", "forwarded_for": request.headers.get("x-forwarded-for")}

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    return app


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    config = uvicorn.Config(stand_in_auth_service(), host="127.0.0.1", port=UPSTREAM_PORT, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the stand-in auth service did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{UPSTREAM_PORT}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is needed: {exc}")

    def flush() -> None:
        for key in client.scan_iter(match=f"{KEY_PREFIX}:*"):
            client.delete(key)

    flush()
    yield REDIS_URL
    flush()
    client.close()


def gateway(upstream: str, client=("testclient", 50000), **settings) -> TestClient:
    config = Settings(
        auth_service_url=upstream,
        task_service_url=CLOSED_PORT_URL,
        notification_service_url=CLOSED_PORT_URL,
        environment="test",
        **settings,
    )
    return TestClient(create_app(config), client=client)


def login(client: TestClient, username: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/auth/login", data={"username": username, "password": "secret"}, headers=headers)


def assert_refused_with_headers(response, limit: int) -> None:
    assert response.status_code == 429
    assert "detail" in response.json()
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(response.headers["ratelimit-reset"]) <= 60


def test_two_gateways_sharing_redis_share_one_login_budget(upstream_url, redis_url):
    limits = {"redis_url": redis_url, "login_rate_limit": "4/minute", "login_account_rate_limit": ""}
    with gateway(upstream_url, **limits) as first, gateway(upstream_url, **limits) as second:
        assert isinstance(app_state(first).rate_limiter.storage, RedisStorage)
        allowed = [login(client, f"user{n}") for n, client in enumerate([first, second, first, second])]
        refused = [login(first, "user4"), login(second, "user5")]

    assert [response.status_code for response in allowed] == [200, 200, 200, 200]
    # The body reached the service whole, after the gateway read the name from it.
    assert [response.json()["username"] for response in allowed] == ["user0", "user1", "user2", "user3"]
    assert [response.headers["ratelimit-remaining"] for response in allowed] == ["3", "2", "1", "0"]
    assert all(response.headers["ratelimit-limit"] == "4" for response in allowed)
    for response in refused:
        assert_refused_with_headers(response, 4)


def test_the_account_name_limit_holds_across_client_addresses(upstream_url, redis_url):
    name = f"victim_{uuid.uuid4().hex[:8]}"
    settings = {
        "redis_url": redis_url,
        "login_rate_limit": "",
        "login_account_rate_limit": "3/minute",
        "trusted_proxies": ["127.0.0.1"],
    }
    with gateway(upstream_url, client=("127.0.0.1", 40000), **settings) as client:
        answers = [login(client, name, forwarded_for=f"203.0.113.{n}") for n in range(3)]
        # Any spelling of the same name spends the same budget.
        refused = login(client, f"  {name.upper()} ", forwarded_for="198.51.100.7")
        other_account = login(client, "someone_else", forwarded_for="198.51.100.7")
        metrics = client.get("/metrics").text

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert_refused_with_headers(refused, 3)
    assert other_account.status_code == 200
    assert 'gateway_rate_limited_total{limit="login_account"} 1.0' in metrics


def test_a_trusted_proxy_forwards_each_client_its_own_address_budget(upstream_url):
    settings = {"login_rate_limit": "2/minute", "login_account_rate_limit": "", "trusted_proxies": ["10.0.0.0/8"]}
    with gateway(upstream_url, client=("10.1.2.3", 40000), **settings) as client:
        # The right-most entry a trusted proxy did not add is the client; what the client wrote is ignored.
        first = [login(client, "a", forwarded_for=f"1.1.1.{n}, 192.0.2.1, 10.9.9.9") for n in range(2)]
        third = login(client, "a", forwarded_for="6.6.6.6, 192.0.2.1")
        another_client = login(client, "a", forwarded_for="192.0.2.2")

    assert [response.status_code for response in first] == [200, 200]
    assert_refused_with_headers(third, 2)
    assert another_client.status_code == 200


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(upstream_url):
    settings = {"login_rate_limit": "2/minute", "login_account_rate_limit": ""}
    with gateway(upstream_url, client=("192.0.2.50", 40000), **settings) as client:
        answers = [login(client, "a", forwarded_for=f"203.0.113.{n}") for n in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]


def test_the_services_see_the_forwarded_chain_from_a_trusted_proxy_only(upstream_url):
    claimed = {"X-Forwarded-For": "6.6.6.6"}
    with gateway(upstream_url, client=("192.0.2.50", 40000), trusted_proxies="10.0.0.0/8") as untrusted:
        from_untrusted = untrusted.get("/auth/me", headers=claimed).json()["forwarded_for"]
    with gateway(upstream_url, client=("10.1.2.3", 40000), trusted_proxies="10.0.0.0/8") as trusted:
        from_trusted = trusted.get("/auth/me", headers=claimed).json()["forwarded_for"]

    assert from_untrusted == "192.0.2.50"
    assert from_trusted == "6.6.6.6, 10.1.2.3"


def test_the_account_name_is_read_from_a_multipart_form_too(upstream_url):
    with gateway(upstream_url, login_rate_limit="", login_account_rate_limit="2/minute") as client:
        answers = [
            client.post("/auth/login", files={"username": (None, "Multi"), "password": (None, "secret")})
            for _ in range(2)
        ]
        refused = login(client, "multi")

    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json() == {"username": "Multi"}
    assert_refused_with_headers(refused, 2)


def test_a_login_body_past_the_size_limit_is_still_refused_with_413(upstream_url):
    with gateway(upstream_url, max_request_body_bytes=1024) as client:
        response = client.post("/auth/login", data={"username": "a", "password": "x" * 5000})

    assert response.status_code == 413


def test_without_redis_the_counters_are_kept_in_memory(upstream_url):
    with gateway(upstream_url, register_rate_limit="2/minute") as client:
        assert isinstance(app_state(client).rate_limiter.storage, MemoryStorage)
        answers = [client.post("/auth/register", json={}) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert answers[0].headers["ratelimit-remaining"] == "1"
    assert_refused_with_headers(answers[2], 2)


class Remember(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_while_redis_is_unreachable_requests_pass_with_one_warning(upstream_url, monkeypatch):
    # Redis is tried again at once after each failure, so every request below meets the outage.
    monkeypatch.setattr("api_gateway.rate_limit.OUTAGE_RETRY_SECONDS", 0.0)
    remembered = Remember()
    logging.getLogger("api_gateway.rate_limit").addHandler(remembered)
    try:
        with gateway(upstream_url, redis_url=UNREACHABLE_REDIS_URL, login_rate_limit="1/minute") as client:
            answers = [login(client, "a") for _ in range(5)]
    finally:
        logging.getLogger("api_gateway.rate_limit").removeHandler(remembered)

    assert [answer.status_code for answer in answers] == [200] * 5
    assert "ratelimit-limit" not in answers[0].headers
    assert [message for message in remembered.messages if "unreachable" in message] == [remembered.messages[0]]
    assert len(remembered.messages) == 1


def test_the_general_limit_is_off_by_default_and_applies_to_every_path_when_set(upstream_url):
    with gateway(upstream_url) as client:
        unlimited = [client.get("/auth/me") for _ in range(30)]
    with gateway(upstream_url, rate_limit="3/minute") as client:
        limited = [client.get(path) for path in ["/auth/me", "/", "/routes", "/auth/me"]]
        probes = [client.get(path) for path in ["/health", "/metrics"]]

    assert {answer.status_code for answer in unlimited} == {200}
    assert "ratelimit-limit" not in unlimited[0].headers
    assert [answer.status_code for answer in limited] == [200, 200, 200, 429]
    assert_refused_with_headers(limited[3], 3)
    assert [probe.status_code for probe in probes] == [503, 200]  # /health: the other services are down


def test_every_answer_carries_the_security_headers(upstream_url):
    with gateway(upstream_url) as client:
        answers = {path: client.get(path) for path in ["/", "/auth/me", "/docs", "/tasks"]}

    for path, answer in answers.items():
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "no-referrer", path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert "server" not in answer.headers, path
    assert answers["/auth/me"].headers["cache-control"] == "no-store"
    assert "cache-control" not in answers["/"].headers
    assert answers["/tasks"].status_code == 503  # the gateway's own answers too
    assert "swagger-ui" in answers["/docs"].text


def test_cors_answers_the_listed_origins_only(upstream_url):
    allowed, other = "https://app.example.com", "https://evil.example.net"
    with gateway(upstream_url, cors_allow_origins=f"{allowed}/", cors_allow_credentials=True) as client:
        simple = client.get("/auth/me", headers={"Origin": allowed})
        refused = client.get("/auth/me", headers={"Origin": other})
        asking = {"Origin": allowed, "Access-Control-Request-Method": "POST"}
        preflight = client.options("/auth/login", headers={**asking, "Access-Control-Request-Headers": "authorization"})
    with gateway(upstream_url) as client:
        by_default = client.get("/auth/me", headers={"Origin": allowed})

    assert simple.headers["access-control-allow-origin"] == allowed
    assert simple.headers["access-control-allow-credentials"] == "true"
    assert "ratelimit-remaining" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in refused.headers
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert not any(name.startswith("access-control-") for name in by_default.headers)


def test_settings_refuse_any_origin_with_credentials_and_malformed_limits():
    with pytest.raises(ValueError, match="CORS_ALLOW_ORIGINS"):
        Settings(cors_allow_origins="*", cors_allow_credentials=True)
    with pytest.raises(ValueError, match="rate limit"):
        Settings(login_rate_limit="lots")
    assert Settings(cors_allow_origins="*").cors_allow_origins == ["*"]


def test_list_settings_read_comma_separated_values_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://a.example, https://b.example/")

    settings = Settings()

    assert [str(network) for network in settings.trusted_proxies] == ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]
    assert settings.cors_allow_origins == ["https://a.example", "https://b.example"]


def test_two_gateway_processes_share_one_budget_and_send_no_server_banner(upstream_url, redis_url):
    """As deployed: two uvicorn processes started the way `make dev` starts them, one Redis between them."""
    env = {
        "ENVIRONMENT": "test",
        "AUTH_SERVICE_URL": upstream_url,
        "TASK_SERVICE_URL": upstream_url,
        "NOTIFICATION_SERVICE_URL": upstream_url,
        "REDIS_URL": redis_url,
        "LOGIN_RATE_LIMIT": "3/minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "",
    }
    gateways = [RunningService("api_gateway.main", port, env) for port in GATEWAY_PORTS]
    try:
        urls = [gateway.wait_until_healthy().base_url for gateway in gateways]
        answers = [
            httpx.post(f"{urls[n % 2]}/auth/login", data={"username": f"u{n}", "password": "x"}, timeout=10)
            for n in range(4)
        ]
    finally:
        for gateway in gateways:
            gateway.stop()

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert_refused_with_headers(answers[3], 3)
    assert all("server" not in answer.headers for answer in answers)


def test_after_an_outage_the_limits_apply_again_with_one_warning_each_way(redis_url, monkeypatch):
    monkeypatch.setattr("api_gateway.rate_limit.OUTAGE_RETRY_SECONDS", 0.0)
    limiter = RateLimiter(Settings(redis_url=redis_url, login_rate_limit="2/minute", login_account_rate_limit=""))
    rules = limiter.rules_for("POST", "/auth/login")
    remembered = Remember()
    logging.getLogger("api_gateway.rate_limit").addHandler(remembered)
    real_hit = limiter._strategy.hit

    async def broken_hit(*args, **kwargs):
        raise redis.ConnectionError("Redis went away")

    async def scenario() -> list:
        verdicts = []
        monkeypatch.setattr(limiter._strategy, "hit", broken_hit)
        verdicts += [await limiter.check(rules, "192.0.2.1", None) for _ in range(3)]
        monkeypatch.setattr(limiter._strategy, "hit", real_hit)
        verdicts += [await limiter.check(rules, "192.0.2.1", None) for _ in range(3)]
        await limiter.aclose()
        return verdicts

    try:
        verdicts = asyncio.run(scenario())
    finally:
        logging.getLogger("api_gateway.rate_limit").removeHandler(remembered)

    assert verdicts[:3] == [None, None, None]
    assert [verdict.allowed for verdict in verdicts[3:]] == [True, True, False]
    assert len(remembered.messages) == 2
    assert "unreachable" in remembered.messages[0]
    assert "reachable again" in remembered.messages[1]
