"""scripts/backup.py: a backup taken, the data changed, the backup restored: the data is back."""

import json
import os
import subprocess
import sys

from sqlalchemy import create_engine, text

from common.migrations import drop_everything
from tests.helpers import DATABASE_URL_VARIABLES, ROOT, SCRATCH_DATABASE_URLS, migrate

CONTENT = {
    "auth_service": "SELECT id, username, email, token_version FROM users ORDER BY id",
    "task_service": "SELECT id, user_id, title, status, description FROM tasks ORDER BY id",
    "notification_service": "SELECT id, event_id, title, message FROM notifications ORDER BY id",
}


def run_script(*arguments: str) -> str:
    env = {**os.environ, **{DATABASE_URL_VARIABLES[service]: url for service, url in SCRATCH_DATABASE_URLS.items()}}
    result = subprocess.run(
        [sys.executable, "scripts/backup.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def execute(service: str, *statements: str) -> None:
    engine = create_engine(SCRATCH_DATABASE_URLS[service])
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def content() -> dict[str, list[tuple]]:
    rows = {}
    for service, query in CONTENT.items():
        engine = create_engine(SCRATCH_DATABASE_URLS[service])
        with engine.connect() as connection:
            rows[service] = [tuple(row) for row in connection.execute(text(query))]
        engine.dispose()
    return rows


def fresh_databases_with_data() -> None:
    for service, url in SCRATCH_DATABASE_URLS.items():
        drop_everything(url)
        migrate(service, url)
    execute(
        "auth_service",
        "INSERT INTO users (id, username, email, hashed_password, is_active, token_version, created_at) "
        "VALUES (1, 'johndoe', 'john@example.com', 'x', true, 2, now())",
    )
    execute(
        "task_service",
        "INSERT INTO tasks (id, user_id, title, description, status, created_at, updated_at) VALUES "
        "(1, 1, 'Write docs', 'ünïcode ✓', 'Pending', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)), "
        "(2, 1, 'Ship it', NULL, 'In Progress', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
    )
    execute(
        "notification_service",
        "INSERT INTO notifications (id, event_id, event_type, user_id, task_id, title, message, created_at) "
        "VALUES (1, 'e-1', 'task_created', 1, 1, 'Write docs', 'Task created', UTC_TIMESTAMP(6))",
    )


def test_a_restore_brings_back_exactly_what_the_backup_held(tmp_path):
    fresh_databases_with_data()
    before = content()

    folder = run_script("backup", "--to", str(tmp_path))
    execute("auth_service", "UPDATE users SET email = 'changed@example.com'")
    execute("task_service", "DELETE FROM tasks WHERE id = 1", "UPDATE tasks SET status = 'Completed'")
    execute("notification_service", "DELETE FROM notifications")
    assert content() != before
    run_script("restore", folder)

    assert content() == before
    manifest = json.loads((tmp_path / folder.rsplit("/", 1)[1] / "manifest.json").read_text())
    assert {name: entry["revision"] for name, entry in manifest["databases"].items()} == {
        "auth": "0003",
        "tasks": "0004",
        "notifications": "0001",
    }
