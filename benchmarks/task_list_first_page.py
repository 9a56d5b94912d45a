"""How much the first page of GET /tasks costs at 10 and at 100,000 tasks for one user.

Starts the real auth and task services on the test databases, gives one user 10 tasks and
another 100,000 (bulk-inserted), then times the first page end to end over HTTP and the
underlying queries on their own. Run with `make bench`; it cleans up what it inserted.
"""

import statistics
import time

import httpx
from sqlalchemy import create_engine, text

from tests.helpers import (
    RABBITMQ_URL,
    TASK_DATABASE_URL,
    RunningService,
    migrate,
    register_and_login,
    running_auth_service,
)

AUTH_PORT, TASK_PORT = 18501, 18502
SIZES = (10, 100_000)
WARMUP, SAMPLES = 20, 200
# Ten rows a page, so both users' pages carry the same payload and only the task count differs.
PAGE_SIZE = 10
PAGES = {
    "default order (oldest first)": {"limit": PAGE_SIZE},
    "newest first": {"limit": PAGE_SIZE, "sort": "-created_at"},
    "status=Pending": {"limit": PAGE_SIZE, "status": "Pending"},
}
STATUSES = ("Pending", "In Progress", "Completed")


def bulk_insert(engine, user_id: int, count: int) -> None:
    rows = [{"user_id": user_id, "title": f"Task {n}", "status": STATUSES[n % 3]} for n in range(count)]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tasks (user_id, title, description, status, created_at, updated_at) "
                "VALUES (:user_id, :title, NULL, :status, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"
            ),
            rows,
        )
        connection.execute(
            text(
                "INSERT INTO task_counts (user_id, status, count) SELECT user_id, status, COUNT(*) FROM tasks "
                "WHERE user_id = :user_id GROUP BY user_id, status"
            ),
            {"user_id": user_id},
        )


def remove(engine, user_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM tasks WHERE user_id = :user_id"), {"user_id": user_id})
        connection.execute(text("DELETE FROM task_counts WHERE user_id = :user_id"), {"user_id": user_id})


def time_ms(action, samples: int) -> list[float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> str:
    ordered = sorted(timings)
    return f"median {statistics.median(ordered):6.2f} ms   p95 {ordered[int(len(ordered) * 0.95)]:6.2f} ms"


def main() -> None:
    with running_auth_service(AUTH_PORT) as auth:
        measure(auth)


def measure(auth: RunningService) -> None:
    migrate("task_service", TASK_DATABASE_URL)
    engine = create_engine(TASK_DATABASE_URL)
    task = RunningService(
        "task_service.main",
        TASK_PORT,
        {"TASK_DATABASE_URL": TASK_DATABASE_URL, "RABBITMQ_URL": RABBITMQ_URL, "AUTH_SERVICE_URL": auth.base_url},
    ).wait_until_healthy()
    users = {size: register_and_login(auth.base_url, "bench") for size in SIZES}
    try:
        for size, user in users.items():
            started = time.perf_counter()
            bulk_insert(engine, user["id"], size)
            print(f"inserted {size:>7,} tasks for user {user['id']} in {time.perf_counter() - started:.1f} s")
        with httpx.Client(base_url=task.base_url, headers=None, timeout=30) as http:
            for label, params in PAGES.items():
                print(f"\nGET /tasks/ first page (limit {PAGE_SIZE}), {label}:")
                for size, user in users.items():

                    def first_page(user=user, params=params):
                        response = http.get("/tasks/", headers=user["headers"], params=params)
                        response.raise_for_status()

                    time_ms(first_page, WARMUP)
                    print(f"  {size:>7,} tasks: {summary(time_ms(first_page, SAMPLES))}  (HTTP, incl. token check)")
        print("\nThe page query on its own (no HTTP, no token check):")
        with engine.connect() as connection:
            for size, user in users.items():
                query = text(f"SELECT * FROM tasks WHERE user_id = :user_id ORDER BY created_at, id LIMIT {PAGE_SIZE}")
                timings = time_ms(lambda q=query, u=user: connection.execute(q, {"user_id": u["id"]}).fetchall(), 100)
                print(f"  {size:>7,} tasks: {summary(timings)}")
            plan = connection.execute(text("EXPLAIN " + str(query)), {"user_id": users[SIZES[-1]]["id"]}).fetchall()
            print(f"\nEXPLAIN at {SIZES[-1]:,} tasks: {[tuple(row) for row in plan]}")
    finally:
        for user in users.values():
            remove(engine, user["id"])
        task.stop()
        engine.dispose()


if __name__ == "__main__":
    main()
