"""ticket counter and unique tickets per day

Waiting-room tickets were numbered count(*) + 1, so check-ins finishing together shared one.
A per-day counter row is counted up in one UPDATE ... RETURNING; a unique (ticket_day, ticket)
keeps any other path from giving a number twice. Tickets issued before this revision keep
an empty ticket_day (they are from past days, or counted when today's counter starts).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 22:49:24.041719
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ticket_counter',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_ticket_counter'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_day', sa.Date(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_appointment_ticket_day'), ['ticket_day', 'ticket'])



def downgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_appointment_ticket_day'), type_='unique')
        batch_op.drop_column('ticket_day')

    op.drop_table('ticket_counter')
