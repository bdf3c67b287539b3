"""question drafts

A manager can save a kiosk question's edit as a draft and publish it later, as consent forms
already work: the kiosk asks the latest version that is not a draft. Every version written
before this was asked at once, so none is a draft.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kiosk_question_version') as batch:
        batch.add_column(sa.Column('draft', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('kiosk_question_version') as batch:
        batch.drop_column('draft')
