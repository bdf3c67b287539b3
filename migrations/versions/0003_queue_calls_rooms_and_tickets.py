"""queue calls, rooms and tickets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:13:03.141804
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('called_at', shared.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('room', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('ticket', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('queue_shift_minutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('queue_note', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('queue_note')
        batch_op.drop_column('queue_shift_minutes')
        batch_op.drop_column('ticket')
        batch_op.drop_column('room')
        batch_op.drop_column('called_at')

