"""hl7 connection

The live connection to the practice system: every HL7 message the listener answered (an
applied MSH-10 unique, so a duplicate is never applied twice, across restarts too), and the
outbox of events sent back, written in the transaction where each happened.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = shared.models.base.UTCDateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False,
                   length=max(len(v) for v in values) + 8)


def upgrade() -> None:
    op.create_table(
        'hl7_inbound',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('control_id', sa.String(length=64), nullable=True),
        sa.Column('applied_control_id', sa.String(length=64), nullable=True),
        sa.Column('status', _enum('hl7_inbound_status', 'applied', 'duplicate', 'refused',
                                  'unparsable'), nullable=False),
        sa.Column('ack_code', sa.String(length=2), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=True),
        sa.Column('received_at', UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hl7_inbound')),
        sa.UniqueConstraint('applied_control_id',
                            name=op.f('uq_hl7_inbound_applied_control_id')),
    )
    op.create_index(op.f('ix_hl7_inbound_control_id'), 'hl7_inbound', ['control_id'])
    op.create_index(op.f('ix_hl7_inbound_received_at'), 'hl7_inbound', ['received_at'])
    op.create_table(
        'hl7_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('control_id', sa.String(length=32), nullable=False),
        sa.Column('event', _enum('hl7_outbox_event', 'arrived', 'checked_in', 'roomed',
                                 'noshow', 'demographics', 'coverage'), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=True),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('status', _enum('hl7_outbox_status', 'pending', 'sent', 'failed'),
                  nullable=False),
        sa.Column('created_at', UTC_TIME, nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_attempt_at', UTC_TIME, nullable=True),
        sa.Column('sent_at', UTC_TIME, nullable=True),
        sa.Column('ack_code', sa.String(length=2), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'],
                                name=op.f('fk_hl7_outbox_appointment_id_appointment')),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'],
                                name=op.f('fk_hl7_outbox_patient_id_patient')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hl7_outbox')),
        sa.UniqueConstraint('control_id', name=op.f('uq_hl7_outbox_control_id')),
    )
    op.create_index('ix_hl7_outbox_status_id', 'hl7_outbox', ['status', 'id'])


def downgrade() -> None:
    op.drop_index('ix_hl7_outbox_status_id', table_name='hl7_outbox')
    op.drop_table('hl7_outbox')
    op.drop_index(op.f('ix_hl7_inbound_received_at'), table_name='hl7_inbound')
    op.drop_index(op.f('ix_hl7_inbound_control_id'), table_name='hl7_inbound')
    op.drop_table('hl7_inbound')
