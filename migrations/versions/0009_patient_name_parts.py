"""patient name parts

The middle name, prefix and suffix that HL7 XPN and FHIR HumanName carry were read by the
import and dropped; they are kept now (nullable: most patients have none).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.add_column(sa.Column('middle_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('name_prefix', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('name_suffix', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.drop_column('name_suffix')
        batch.drop_column('name_prefix')
        batch.drop_column('middle_name')
