"""spanish names of locations and providers

A manager can give a location and a provider the name Spanish-speaking patients read on the
kiosk ("Pediatría", "Dra. ..."); nullable: without one the kiosk shows the usual name.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('location') as batch:
        batch.add_column(sa.Column('name_es', sa.String(length=120), nullable=True))
    with op.batch_alter_table('provider') as batch:
        batch.add_column(sa.Column('display_name_es', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('provider') as batch:
        batch.drop_column('display_name_es')
    with op.batch_alter_table('location') as batch:
        batch.drop_column('name_es')
