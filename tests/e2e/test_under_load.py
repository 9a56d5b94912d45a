"""What holds under load, on the two-replica stack: no deadlock, caps on streams, immediate revocation."""

import asyncio

import httpx
import pytest

from tests.e2e.stack import Stack
from tests.helpers import poll, register_and_login, token_checks

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_hundred_requests_at_once_from_one_user_all_succeed(stack: Stack):
    """Far more at once than each task replica has threads and connections (16 + 1), every token unchecked yet."""
    users = [register_and_login(stack.url("auth"), "crowd") for _ in range(4)]
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        reads = [client.get(f"{stack.url('task')}/tasks/", headers=users[0]["headers"]) for _ in range(50)]
        writes = [
            client.post(f"{stack.url('task')}/tasks/", headers=users[1]["headers"], json={"title": "at once"})
            for _ in range(50)
        ]
        through_gateway = [
            client.get(f"{stack.url('gateway')}/tasks/", headers=users[2 + n % 2]["headers"]) for n in range(100)
        ]
        answers = await asyncio.gather(*reads, *writes, *through_gateway)

    assert {response.status_code for response in answers} == {200, 201}


def test_a_logout_is_refused_by_every_replica_on_the_very_next_request(stack: Stack):
    user = register_and_login(stack.url("auth"), "revoked")
    replicas = [f"{url}/tasks/" for url in stack.replica_urls("task")]
    replicas += [f"{url}/notifications/" for url in stack.replica_urls("notification")]
    for url in replicas:
        assert httpx.get(url, headers=user["headers"]).status_code == 200
    cached_before = [token_checks(url.rsplit("/", 2)[0]).get("cache", 0) for url in replicas]
    # Answered from each replica's cache: the revocation below must beat it.
    for url in replicas:
        assert httpx.get(url, headers=user["headers"]).status_code == 200
    assert all(
        token_checks(url.rsplit("/", 2)[0]).get("cache", 0) > before
        for url, before in zip(replicas, cached_before, strict=True)
    )

    assert httpx.post(f"{stack.url('gateway')}/auth/logout", headers=user["headers"]).status_code == 204

    assert [httpx.get(url, headers=user["headers"]).status_code for url in replicas] == [401] * len(replicas)


def test_a_password_change_is_refused_by_every_replica_on_the_very_next_request(stack: Stack):
    user = register_and_login(stack.url("auth"), "rekeyed")
    replicas = [f"{url}/tasks/" for url in stack.replica_urls("task")]
    for _ in range(2):
        assert [httpx.get(url, headers=user["headers"]).status_code for url in replicas] == [200] * len(replicas)

    changed = httpx.post(
        f"{stack.url('gateway')}/auth/me/password",
        headers=user["headers"],
        json={"current_password": user["password"], "new_password": "another-secret"},
    )

    assert changed.status_code == 204
    assert [httpx.get(url, headers=user["headers"]).status_code for url in replicas] == [401] * len(replicas)


def test_a_new_username_reaches_the_next_task_event_through_a_warm_cache(stack: Stack):
    user = register_and_login(stack.url("auth"), "renamed")
    gateway = stack.url("gateway")
    for _ in range(2):
        httpx.get(f"{gateway}/tasks/", headers=user["headers"]).raise_for_status()
    new_name = user["username"] + "_x"
    httpx.patch(f"{gateway}/auth/me", headers=user["headers"], json={"username": new_name}).raise_for_status()

    task = httpx.post(f"{gateway}/tasks/", headers=user["headers"], json={"title": "Who am I"}).json()

    assert task["user_id"] == user["id"]
    line = poll(
        lambda: (
            next(
                (
                    entry
                    for entry in stack.notification_log.read_text().splitlines()
                    if f'"task_id": {task["id"]},' in entry
                ),
                None,
            )
            if stack.notification_log.exists()
            else None
        )
    )
    assert f'"username": "{new_name}"' in line


async def test_streams_past_the_per_user_cap_are_refused_and_others_are_served(stack: Stack):
    notification = stack.url("notification")
    owner = register_and_login(stack.url("auth"), "flood")
    other = register_and_login(stack.url("auth"), "calm")
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=notification, timeout=httpx.Timeout(30), limits=limits) as client:
        opened = asyncio.Event()
        release = asyncio.Event()
        statuses: list[int] = []

        async def open_stream() -> None:
            async with client.stream("GET", "/notifications/stream", headers=owner["headers"]) as response:
                statuses.append(response.status_code)
                if response.status_code == 200:
                    if statuses.count(200) == 5:
                        opened.set()
                    await release.wait()
                else:
                    assert int(response.headers["retry-after"]) > 0
                    await response.aread()
                    assert "At most 5 live streams" in response.json()["detail"]

        streams = [asyncio.create_task(open_stream()) for _ in range(5)]
        await asyncio.wait_for(opened.wait(), 10)
        refused = [asyncio.create_task(open_stream()) for _ in range(10)]
        await asyncio.gather(*refused)
        others = await client.get("/notifications/", headers=other["headers"])
        others_stream = client.stream("GET", "/notifications/stream", headers=other["headers"])
        async with others_stream as response:
            others_stream_status = response.status_code
        release.set()
        await asyncio.gather(*streams)

    assert sorted(statuses) == [200] * 5 + [429] * 10
    assert others.status_code == 200
    assert others_stream_status == 200
