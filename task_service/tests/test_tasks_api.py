from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from task_service.schemas import MAX_SKIP

TASK_FIELDS = {"id", "title", "description", "status", "user_id", "created_at", "updated_at"}


def create(client: TestClient, user: dict, **fields) -> dict:
    response = client.post("/tasks/", headers=user["headers"], json={"title": "A task", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_returns_the_task_owned_by_the_caller(client, alice):
    response = client.post(
        "/tasks/",
        headers=alice["headers"],
        json={"title": "Complete project documentation", "description": "Write the README", "status": "Pending"},
    )

    assert response.status_code == 201
    task = response.json()
    assert set(task) == TASK_FIELDS
    assert task["title"] == "Complete project documentation"
    assert task["description"] == "Write the README"
    assert task["status"] == "Pending"
    assert task["user_id"] == alice["id"]
    created = datetime.fromisoformat(task["created_at"])
    offset = created.utcoffset()
    assert offset is not None and offset.total_seconds() == 0
    assert task["updated_at"] == task["created_at"]


def test_create_defaults_to_pending_without_description(client, alice):
    task = create(client, alice)

    assert task["status"] == "Pending"
    assert task["description"] is None


@pytest.mark.parametrize("status", ["Pending", "In Progress", "Completed"])
def test_every_documented_status_is_accepted(client, alice, status):
    assert create(client, alice, status=status)["status"] == status


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "t", "status": "Done"}, "status"),
        ({"title": "t", "status": "in progress"}, "status"),
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "t", "user_id": 1}, "user_id"),
    ],
)
def test_create_rejects_invalid_bodies_with_422(client, alice, body, field):
    response = client.post("/tasks/", headers=alice["headers"], json=body)

    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


@pytest.mark.parametrize("path", ["/tasks", "/tasks/"])
def test_collection_answers_with_and_without_trailing_slash(client, alice, path):
    created = client.post(path, headers=alice["headers"], json={"title": "slash"}, follow_redirects=False)
    listed = client.get(path, headers=alice["headers"], follow_redirects=False)

    assert created.status_code == 201
    assert listed.status_code == 200
    assert "location" not in listed.headers


def test_a_user_reads_their_own_task(client, alice):
    task = create(client, alice, title="mine")

    response = client.get(f"/tasks/{task['id']}", headers=alice["headers"])

    assert response.status_code == 200
    assert response.json() == task


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_another_users_task_is_not_found_and_stays_unchanged(client, alice, bob, method):
    task = create(client, alice, title="private")

    response = client.request(method, f"/tasks/{task['id']}", headers=bob["headers"], json={"title": "stolen"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}
    assert client.get(f"/tasks/{task['id']}", headers=alice["headers"]).json() == task


def test_a_missing_task_is_404_and_a_non_numeric_id_is_422(client, alice):
    assert client.get("/tasks/999999999", headers=alice["headers"]).status_code == 404
    assert client.get("/tasks/abc", headers=alice["headers"]).status_code == 422


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_changes_only_the_given_fields(client, alice, method):
    task = create(client, alice, title="before", description="keep me")

    response = client.request(method, f"/tasks/{task['id']}", headers=alice["headers"], json={"status": "In Progress"})

    assert response.status_code == 200
    updated = response.json()
    assert updated["status"] == "In Progress"
    assert updated["title"] == "before"
    assert updated["description"] == "keep me"
    assert updated["updated_at"] > task["updated_at"]
    assert updated["created_at"] == task["created_at"]


def test_update_with_the_original_readme_body_replaces_all_three_fields(client, alice):
    task = create(client, alice)
    body = {"title": "Updated title", "description": "Updated description", "status": "In Progress"}

    updated = client.put(f"/tasks/{task['id']}", headers=alice["headers"], json=body).json()

    assert {key: updated[key] for key in body} == body


def test_update_can_clear_the_description(client, alice):
    task = create(client, alice, description="temporary")

    response = client.patch(f"/tasks/{task['id']}", headers=alice["headers"], json={"description": None})

    assert response.json()["description"] is None


@pytest.mark.parametrize(
    "body", [{}, {"title": None}, {"status": None}, {"status": "Unknown"}, {"title": ""}, {"id": 5}]
)
def test_update_rejects_invalid_bodies_with_422(client, alice, body):
    task = create(client, alice)

    response = client.put(f"/tasks/{task['id']}", headers=alice["headers"], json=body)

    assert response.status_code == 422
    assert response.json()["detail"]


def test_delete_removes_the_task(client, alice):
    task = create(client, alice)

    response = client.delete(f"/tasks/{task['id']}", headers=alice["headers"])

    assert response.status_code == 200
    assert response.json() == {"message": "Task deleted successfully"}
    assert client.get(f"/tasks/{task['id']}", headers=alice["headers"]).status_code == 404


def test_list_shows_only_the_callers_tasks_with_the_total(client, alice, bob):
    mine = [create(client, alice, title=f"alice {n}") for n in range(3)]
    create(client, bob, title="bob's")

    response = client.get("/tasks/", headers=alice["headers"])

    assert response.status_code == 200
    assert response.json() == mine
    assert response.headers["x-total-count"] == "3"


def test_list_pages_with_skip_and_limit(client, alice):
    tasks = [create(client, alice, title=f"task {n}") for n in range(5)]

    page = client.get("/tasks/", headers=alice["headers"], params={"skip": 1, "limit": 2})

    assert [task["id"] for task in page.json()] == [tasks[1]["id"], tasks[2]["id"]]
    assert page.headers["x-total-count"] == "5"


def test_list_filters_by_status_and_searches_text(client, alice):
    create(client, alice, title="Write docs", status="Completed")
    create(client, alice, title="Fix bug", description="100% reproducible", status="Pending")
    create(client, alice, title="Review docs", status="Pending")
    # "100%" read as a LIKE pattern would match these too.
    create(client, alice, title="Plan 100 days", description="In 100 steps", status="Completed")

    pending = client.get("/tasks/", headers=alice["headers"], params={"status": "Pending"})
    docs = client.get("/tasks/", headers=alice["headers"], params={"search": "DOCS"})
    percent = client.get("/tasks/", headers=alice["headers"], params={"search": "100%"})
    both = client.get("/tasks/", headers=alice["headers"], params={"search": "docs", "status": "Pending"})

    assert [t["title"] for t in pending.json()] == ["Fix bug", "Review docs"]
    assert [t["title"] for t in docs.json()] == ["Write docs", "Review docs"]
    assert [t["title"] for t in percent.json()] == ["Fix bug"]
    assert [t["title"] for t in both.json()] == ["Review docs"]
    assert both.headers["x-total-count"] == "1"


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created_at", ["b", "c", "a"]),
        ("-created_at", ["a", "c", "b"]),
        ("title", ["a", "b", "c"]),
        ("-title", ["c", "b", "a"]),
    ],
)
def test_list_sorts(client, alice, sort, expected):
    for title in ["b", "c", "a"]:
        create(client, alice, title=title)

    response = client.get("/tasks/", headers=alice["headers"], params={"sort": sort})

    assert [task["title"] for task in response.json()] == expected


@pytest.mark.parametrize(
    ("params", "count"),
    [({"skip": 0}, 2), ({"limit": 1}, 1), ({"limit": 100}, 2), ({"skip": MAX_SKIP}, 0)],
)
def test_list_takes_the_bounds_of_every_parameter(client, alice, params, count):
    create(client, alice)
    create(client, alice)

    response = client.get("/tasks/", headers=alice["headers"], params=params)

    assert response.status_code == 200, response.text
    assert len(response.json()) == count
    assert response.headers["x-total-count"] == "2"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": 0},
        {"skip": -1},
        {"skip": MAX_SKIP + 1},
        {"status": "Done"},
        {"sort": "priority"},
        {"search": ""},
    ],
)
def test_list_rejects_invalid_parameters_with_422(client, alice, params):
    response = client.get("/tasks/", headers=alice["headers"], params=params)

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "Not authenticated"), ({"Authorization": "Bearer not-a-token"}, "Could not validate credentials")],
)
def test_requests_without_a_valid_token_are_401(client, headers, detail):
    response = client.get("/tasks/", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_total_follows_creates_status_changes_and_deletes(client, alice):
    first = create(client, alice, status="Pending")
    create(client, alice, status="Pending")
    done = create(client, alice, status="Completed")
    client.patch(f"/tasks/{first['id']}", headers=alice["headers"], json={"status": "In Progress"})
    client.delete(f"/tasks/{done['id']}", headers=alice["headers"])

    def total(**params) -> tuple[int, int]:
        response = client.get("/tasks/", headers=alice["headers"], params=params)
        return int(response.headers["x-total-count"]), len(response.json())

    assert total() == (2, 2)
    assert total(status="Pending") == (1, 1)
    assert total(status="In Progress") == (1, 1)
    assert total(status="Completed") == (0, 0)
    assert total(limit=1) == (2, 1)


def test_metrics_label_task_paths_by_template_not_by_id(client, alice):
    task = create(client, alice)
    client.get(f"/tasks/{task['id']}/", headers=alice["headers"])

    metrics = client.get("/metrics").text

    assert 'http_requests_total{method="GET",route="/tasks/{task_id}",status="200"}' in metrics
    assert f"/tasks/{task['id']}" not in metrics
