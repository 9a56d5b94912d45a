"""request id on outbox events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox_events", sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox_events", "request_id")
