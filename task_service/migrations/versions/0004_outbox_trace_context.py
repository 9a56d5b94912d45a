"""trace context on outbox events

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox_events", sa.Column("trace_context", sa.String(1024), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox_events", "trace_context")
