"""kiosk lookup throttle

Failed name-and-birth-date and phone-digit lookups counted per kiosk in the database (they
were counted in the browser session, and starting over wiped them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 23:09:38.008478
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kiosk_lookup',
    sa.Column('kiosk_id', sa.String(length=64), nullable=False),
    sa.Column('misses', sa.Integer(), nullable=False),
    sa.Column('last_miss_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_until', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kiosk_id', name=op.f('pk_kiosk_lookup'))
    )


def downgrade() -> None:
    op.drop_table('kiosk_lookup')
