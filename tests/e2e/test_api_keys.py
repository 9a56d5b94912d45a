"""API keys on the two-replica stack, through the gateway: a machine client's life, and its end everywhere at once."""

import httpx

from tests.e2e.stack import Stack
from tests.e2e.streams import StreamListener
from tests.helpers import poll, register_and_login, token_checks


def test_a_key_creates_and_lists_tasks_and_once_deleted_every_replica_refuses_it(stack: Stack):
    gateway = stack.url("gateway")
    user = register_and_login(gateway, "machine")
    created = httpx.post(f"{gateway}/auth/api-keys", headers=user["headers"], json={"name": "e2e"})
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["key"]}

    task = httpx.post(f"{gateway}/tasks/", headers=key, json={"title": "made with a key"})
    listed = httpx.get(f"{gateway}/tasks/", headers=key)

    assert task.status_code == 201, task.text
    assert task.json()["user_id"] == user["id"]
    assert listed.status_code == 200
    assert [t["title"] for t in listed.json()] == ["made with a key"]
    keys = httpx.get(f"{gateway}/auth/api-keys", headers=user["headers"]).json()
    assert [(k["id"], k["last_used_at"] is not None) for k in keys] == [(created.json()["id"], True)]
    assert "key" not in keys[0]

    replicas = [f"{url}/tasks/" for url in stack.replica_urls("task")]
    replicas += [f"{url}/notifications/" for url in stack.replica_urls("notification")]
    # The first check of a key on a replica learns whose it is; from the second on, answers are cached.
    for _ in range(2):
        assert [httpx.get(url, headers=key).status_code for url in replicas] == [200] * len(replicas)
    cached_before = [token_checks(url.rsplit("/", 2)[0]).get("cache", 0) for url in replicas]
    assert [httpx.get(url, headers=key).status_code for url in replicas] == [200] * len(replicas)
    assert all(
        token_checks(url.rsplit("/", 2)[0]).get("cache", 0) > before
        for url, before in zip(replicas, cached_before, strict=True)
    )

    deleted = httpx.delete(f"{gateway}/auth/api-keys/{created.json()['id']}", headers=user["headers"])

    assert deleted.status_code == 204
    answers = [httpx.get(url, headers=key) for url in replicas]
    assert [answer.status_code for answer in answers] == [401] * len(replicas)
    assert {answer.json()["detail"] for answer in answers} == {"Invalid API key"}
    assert httpx.get(f"{gateway}/tasks/", headers=key).status_code == 401
    # The bearer token is untouched.
    assert httpx.get(f"{gateway}/tasks/", headers=user["headers"]).status_code == 200


def test_a_password_change_ends_a_cached_key_on_every_replica(stack: Stack):
    gateway = stack.url("gateway")
    user = register_and_login(gateway, "rotated")
    key = {
        "X-API-Key": httpx.post(f"{gateway}/auth/api-keys", headers=user["headers"], json={"name": "k"}).json()["key"]
    }
    replicas = [f"{url}/tasks/" for url in stack.replica_urls("task")]
    for _ in range(3):
        assert [httpx.get(url, headers=key).status_code for url in replicas] == [200] * len(replicas)

    changed = httpx.post(
        f"{gateway}/auth/me/password",
        headers=user["headers"],
        json={"current_password": user["password"], "new_password": "another-secret"},
    )

    assert changed.status_code == 204
    assert [httpx.get(url, headers=key).status_code for url in replicas] == [401] * len(replicas)


def test_a_key_cannot_make_another_key_through_the_gateway(stack: Stack):
    gateway = stack.url("gateway")
    user = register_and_login(gateway, "keyless")
    key = {
        "X-API-Key": httpx.post(f"{gateway}/auth/api-keys", headers=user["headers"], json={"name": "k"}).json()["key"]
    }

    refused = httpx.post(f"{gateway}/auth/api-keys", headers=key, json={"name": "from a key"})

    assert refused.status_code == 403
    assert "API key cannot create API keys" in refused.json()["detail"]


def test_a_stream_opened_with_a_key_ends_once_the_key_is_deleted(stack: Stack):
    gateway = stack.url("gateway")
    owner = register_and_login(gateway, "keystream")
    created = httpx.post(f"{gateway}/auth/api-keys", headers=owner["headers"], json={"name": "listener"}).json()
    listener = StreamListener(f"{gateway}/notifications/stream", {"X-API-Key": created["key"]})
    assert listener.connected.wait(10)
    httpx.post(f"{gateway}/tasks/", headers=owner["headers"], json={"title": "Heard"}).raise_for_status()
    assert poll(lambda: any("Heard" in line for line in listener.lines))

    assert httpx.delete(f"{gateway}/auth/api-keys/{created['id']}", headers=owner["headers"]).status_code == 204
    # The owner's token still works: its notification reaches the stream, whose key is now deleted.
    httpx.post(f"{gateway}/tasks/", headers=owner["headers"], json={"title": "Too late"}).raise_for_status()
    listener.thread.join(15)

    assert not listener.thread.is_alive()
    assert "event: unauthorized" in listener.lines
    assert 'data: {"detail": "Invalid API key"}' in listener.lines
    assert not any("Too late" in line for line in listener.lines)
