"""Mixed task traffic through the gateway from many clients at once: throughput, latency, errors.

Starts the whole stack on its own ports (E2E_PORT_BASE 18600) against the test databases,
signs up USERS users, then for DURATION seconds keeps CONCURRENCY requests in flight:
create, list (first page), read and update tasks, each through the gateway, so every request
also costs a token check at the auth service. Any 5xx or transport error is counted and shown.
"""

import asyncio
import os
import random
import statistics
import time
from collections import Counter

os.environ.setdefault("E2E_PORT_BASE", "18600")

import httpx

from tests.e2e.stack import start_stack
from tests.helpers import register_and_login

USERS = 20
CONCURRENCY = 50
DURATION_SECONDS = 20.0


async def one_request(http: httpx.AsyncClient, user: dict, task_ids: list[int]) -> int:
    action = random.choices(["create", "list", "read", "update"], weights=[2, 4, 3, 1])[0]
    if action == "create" or not task_ids:
        response = await http.post("/tasks/", headers=user["headers"], json={"title": "Load"})
        if response.status_code == 201:
            task_ids.append(response.json()["id"])
    elif action == "list":
        response = await http.get("/tasks/", headers=user["headers"], params={"limit": 20})
    elif action == "read":
        response = await http.get(f"/tasks/{random.choice(task_ids)}", headers=user["headers"])
    else:
        response = await http.patch(
            f"/tasks/{random.choice(task_ids)}", headers=user["headers"], json={"status": "In Progress"}
        )
    return response.status_code


async def run_load(gateway: str, users: list[dict]) -> None:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    task_ids: dict[int, list[int]] = {user["id"]: [] for user in users}
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    deadline = time.monotonic() + DURATION_SECONDS

    async with httpx.AsyncClient(base_url=gateway, limits=limits, timeout=30) as http:

        async def worker() -> None:
            while time.monotonic() < deadline:
                user = random.choice(users)
                started = time.perf_counter()
                try:
                    statuses[str(await one_request(http, user, task_ids[user["id"]]))] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.monotonic() - started

    ordered = sorted(latencies)
    print(
        f"{len(latencies)} requests in {elapsed:.1f} s: {len(latencies) / elapsed:.0f} requests/s "
        f"with {CONCURRENCY} in flight"
    )
    print(
        f"latency ms: median {statistics.median(ordered):.1f}, p95 {ordered[int(len(ordered) * 0.95)]:.1f}, "
        f"p99 {ordered[int(len(ordered) * 0.99)]:.1f}, max {ordered[-1]:.1f}"
    )
    print(f"answers: {dict(sorted(statuses.items()))}")


def main() -> None:
    stack = start_stack()
    try:
        users = [register_and_login(stack.url("auth"), "load") for _ in range(USERS)]
        asyncio.run(run_load(stack.url("gateway"), users))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
