"""report range indexes

The reports filter check-ins by the moment they started and flags by the moment they were
raised; without an index a one-month report read the whole history (a SCAN on SQLite, 91k of
99k rows discarded on PostgreSQL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f('ix_check_in_started_at'), 'check_in', ['started_at'], unique=False)
    op.create_index(op.f('ix_flag_raised_at'), 'flag', ['raised_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_flag_raised_at'), table_name='flag')
    op.drop_index(op.f('ix_check_in_started_at'), table_name='check_in')
