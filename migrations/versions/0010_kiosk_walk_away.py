"""kiosk walk-away

A check-in remembers the appointment's status before the patient arrived, so a patient who
walks away from the kiosk puts the appointment back where it was (booked, or no-show) instead
of leaving it "arrived" in the queue with nobody there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ('booked', 'arrived', 'checked-in', 'in-room', 'fulfilled', 'noshow', 'cancelled')


def upgrade() -> None:
    with op.batch_alter_table('check_in') as batch:
        batch.add_column(sa.Column('status_before', sa.Enum(
            *STATUSES, name='appointment_status', native_enum=False, length=18), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('check_in') as batch:
        batch.drop_column('status_before')
