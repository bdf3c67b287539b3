"""carried-over answers

A manager marks the questions whose answers carry over from one visit to the next
(allergies, medications, pharmacy...): the patient sees the last answer with "Still right?"
and a change to it reaches the desk as a change (issue 16). No question carried over before.

Check-ins gain two channels, "home" (a pre-check-in on the patient's phone) and "mobile"
("I'm here" on the phone in the lobby): the channel column grows to the longest name.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kiosk_question') as batch:
        batch.add_column(sa.Column('carry_over', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('check_in') as batch:
        batch.alter_column('channel', existing_type=sa.String(13), type_=sa.String(14),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('check_in') as batch:
        batch.alter_column('channel', existing_type=sa.String(14), type_=sa.String(13),
                           existing_nullable=False)
    with op.batch_alter_table('kiosk_question') as batch:
        batch.drop_column('carry_over')
