"""Task events as the task service publishes them, for the suites to send."""

import uuid

from common.db import utcnow


def task_event(user: dict, event_type: str = "task_created", task_id: int = 1, title: str = "Write docs") -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": utcnow().isoformat(),
        "version": 1,
        "data": {
            "task_id": task_id,
            "title": title,
            "description": None,
            "status": "Pending",
            "user_id": user["id"],
            "username": user["username"],
            "email": user["email"],
        },
    }
