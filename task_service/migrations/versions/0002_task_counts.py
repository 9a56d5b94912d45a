"""per-user task counts by status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_counts",
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("status", sa.Enum("Pending", "In Progress", "Completed", name="task_status"), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )
    op.execute(
        "INSERT INTO task_counts (user_id, status, count) "
        "SELECT user_id, status, COUNT(*) FROM tasks GROUP BY user_id, status"
    )


def downgrade() -> None:
    op.drop_table("task_counts")
