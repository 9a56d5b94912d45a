"""Many requests on one task at once, through real uvicorn worker threads."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.stack import Stack
from tests.helpers import register_and_login

PARALLEL = 8
STATUSES = ["Pending", "In Progress", "Completed"]


def test_concurrent_deletes_of_one_task_give_one_200_and_404s(stack: Stack):
    user = register_and_login(stack.url("auth"))
    with httpx.Client(base_url=stack.url("gateway"), headers=user["headers"], timeout=30) as http:
        task_id = http.post("/tasks/", json={"title": "Delete me once"}).json()["id"]

        with ThreadPoolExecutor(PARALLEL) as pool:
            statuses = sorted(pool.map(lambda _: http.delete(f"/tasks/{task_id}").status_code, range(PARALLEL)))

        assert statuses == [200] + [404] * (PARALLEL - 1)
        assert http.get("/tasks/").headers["x-total-count"] == "0"


def test_concurrent_status_changes_keep_every_total_exact(stack: Stack):
    user = register_and_login(stack.url("auth"))
    with httpx.Client(base_url=stack.url("gateway"), headers=user["headers"], timeout=30) as http:
        task_ids = [http.post("/tasks/", json={"title": f"Task {n}"}).json()["id"] for n in range(2)]
        changes = [(task_ids[n % 2], STATUSES[n % 3]) for n in range(PARALLEL * 3)]

        with ThreadPoolExecutor(PARALLEL) as pool:
            codes = set(
                pool.map(
                    lambda change: http.patch(f"/tasks/{change[0]}", json={"status": change[1]}).status_code, changes
                )
            )

        assert codes == {200}
        for status in STATUSES:
            response = http.get("/tasks/", params={"status": status})
            assert response.headers["x-total-count"] == str(len(response.json())), status
        assert http.get("/tasks/").headers["x-total-count"] == "2"


def test_concurrent_registrations_of_one_name_give_one_201_and_409s(stack: Stack):
    suffix = uuid.uuid4().hex[:10]
    body = {"username": f"race_{suffix}", "email": f"race_{suffix}@example.com", "password": "test123"}
    with httpx.Client(base_url=stack.url("gateway"), timeout=30) as http, ThreadPoolExecutor(PARALLEL) as pool:
        statuses = sorted(pool.map(lambda _: http.post("/auth/register", json=body).status_code, range(PARALLEL)))

    assert statuses == [201] + [409] * (PARALLEL - 1)
