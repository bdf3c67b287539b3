"""practice system codes

A location is known to the practice system by a code (AIL-3.1, PV1-3) as well as by the name
patients read; a provider or location name set by a manager is marked so that the next
import does not overwrite it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('location') as batch:
        batch.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('name_set_by_staff', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_unique_constraint(op.f('uq_location_external_id'), ['external_id'])
    with op.batch_alter_table('provider') as batch:
        batch.add_column(sa.Column('name_set_by_staff', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('provider') as batch:
        batch.drop_column('name_set_by_staff')
    with op.batch_alter_table('location') as batch:
        batch.drop_constraint(op.f('uq_location_external_id'), type_='unique')
        batch.drop_column('name_set_by_staff')
        batch.drop_column('external_id')
