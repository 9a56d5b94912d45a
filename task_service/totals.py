"""Per-user task totals for `X-Total-Count`, maintained alongside the tasks themselves."""

from sqlalchemy import func, select, update
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.orm import Session

from task_service.models import TaskCount, TaskStatus


def record_change(session: Session, user_id: int, removed: TaskStatus | None, added: TaskStatus | None) -> None:
    """Move one task out of `removed` and into `added` (either may be None), in the caller's transaction."""
    changes = {status: delta for status, delta in ((removed, -1), (added, +1)) if status is not None}
    # Rows are always touched in the same order, so two concurrent status changes cannot deadlock.
    for status in sorted(changes, key=lambda s: s.value):
        delta = changes[status]
        if delta > 0:
            upsert = insert(TaskCount).values(user_id=user_id, status=status, count=1)
            session.execute(upsert.on_duplicate_key_update(count=TaskCount.count + 1))
        else:
            session.execute(
                update(TaskCount)
                .where(TaskCount.user_id == user_id, TaskCount.status == status)
                .values(count=TaskCount.count - 1)
            )


def total(session: Session, user_id: int, status: TaskStatus | None) -> int:
    query = select(func.coalesce(func.sum(TaskCount.count), 0)).where(TaskCount.user_id == user_id)
    if status is not None:
        query = query.where(TaskCount.status == status)
    return int(session.scalar(query) or 0)
