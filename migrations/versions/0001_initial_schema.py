"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 14:39:21.051525
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_type', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('record_type', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('consent_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('renewal', sa.Enum('every_visit', 'yearly', 'once', name='consent_renewal', native_enum=False, length=19), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('visit_types', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_form')),
    sa.UniqueConstraint('key', name=op.f('uq_consent_form_key'))
    )
    op.create_table('kiosk_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_question')),
    sa.UniqueConstraint('key', name=op.f('uq_kiosk_question_key'))
    )
    op.create_table('location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('department', sa.String(length=120), nullable=False),
    sa.Column('directions_en', sa.Text(), nullable=False),
    sa.Column('directions_es', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('name', name=op.f('uq_location_name'))
    )
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mrn', sa.String(length=40), nullable=False),
    sa.Column('legal_given_name', sa.String(length=100), nullable=False),
    sa.Column('legal_family_name', sa.String(length=100), nullable=False),
    sa.Column('preferred_name', sa.String(length=100), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.Enum('female', 'male', 'other', 'unknown', name='sex', native_enum=False, length=15), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address_line', sa.String(length=200), nullable=True),
    sa.Column('address_line2', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=50), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('preferred_language', sa.Enum('en', 'es', name='language', native_enum=False, length=10), nullable=False),
    sa.Column('created_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('mrn', name=op.f('uq_patient_mrn'))
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_birth_date'), ['birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_legal_family_name'), ['legal_family_name'], unique=False)

    op.create_table('provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('specialty', sa.String(length=120), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider')),
    sa.UniqueConstraint('external_id', name=op.f('uq_provider_external_id'))
    )
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('representative', 'manager', name='staff_role', native_enum=False, length=22), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_user_username'))
    )
    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('start', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('visit_type', sa.String(length=60), nullable=False),
    sa.Column('status', sa.Enum('booked', 'arrived', 'checked-in', 'in-room', 'fulfilled', 'noshow', 'cancelled', name='appointment_status', native_enum=False, length=18), nullable=False),
    sa.Column('arrived_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('in_room_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_appointment_location_id_location')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_appointment_patient_id_patient')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_appointment_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment')),
    sa.UniqueConstraint('external_id', name=op.f('uq_appointment_external_id'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_start'), ['start'], unique=False)

    op.create_table('consent_form_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_es', sa.String(length=200), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('body_es', sa.Text(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('published_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_consent_form_version_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['form_id'], ['consent_form.id'], name=op.f('fk_consent_form_version_form_id_consent_form')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_form_version')),
    sa.UniqueConstraint('form_id', 'version', name=op.f('uq_consent_form_version_form_id'))
    )
    with op.batch_alter_table('consent_form_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_form_version_form_id'), ['form_id'], unique=False)

    op.create_table('coverage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('payer', sa.String(length=120), nullable=False),
    sa.Column('plan', sa.String(length=120), nullable=True),
    sa.Column('member_id', sa.String(length=60), nullable=False),
    sa.Column('group_id', sa.String(length=60), nullable=True),
    sa.Column('subscriber_name', sa.String(length=200), nullable=True),
    sa.Column('subscriber_relationship', sa.Enum('self', 'spouse', 'child', 'other', name='subscriber_relationship', native_enum=False, length=14), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('card_front', sa.LargeBinary(), nullable=True),
    sa.Column('card_back', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_coverage_patient_id_patient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage'))
    )
    with op.batch_alter_table('coverage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coverage_patient_id'), ['patient_id'], unique=False)

    op.create_table('kiosk_question_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('yes_no', 'single_choice', 'multiple_choice', 'short_text', 'number', 'date', 'pain_scale', name='question_type', native_enum=False, length=23), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('text_es', sa.Text(), nullable=False),
    sa.Column('help_en', sa.Text(), nullable=False),
    sa.Column('help_es', sa.Text(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('min_value', sa.Float(), nullable=True),
    sa.Column('max_value', sa.Float(), nullable=True),
    sa.Column('visit_types', sa.JSON(), nullable=False),
    sa.Column('provider_ids', sa.JSON(), nullable=False),
    sa.Column('location_ids', sa.JSON(), nullable=False),
    sa.Column('condition', sa.JSON(), nullable=True),
    sa.Column('flag_rules', sa.JSON(), nullable=False),
    sa.Column('created_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_kiosk_question_version_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['question_id'], ['kiosk_question.id'], name=op.f('fk_kiosk_question_version_question_id_kiosk_question')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_question_version')),
    sa.UniqueConstraint('question_id', 'version', name=op.f('uq_kiosk_question_version_question_id'))
    )
    with op.batch_alter_table('kiosk_question_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_question_version_question_id'), ['question_id'], unique=False)

    op.create_table('patient_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('emergency', 'guardian', name='contact_kind', native_enum=False, length=17), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('relationship_to_patient', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_patient_contact_patient_id_patient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_contact'))
    )
    with op.batch_alter_table('patient_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_contact_patient_id'), ['patient_id'], unique=False)

    op.create_table('answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('language', sa.Enum('en', 'es', name='language', native_enum=False, length=10), nullable=False),
    sa.Column('answered_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_answer_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['question_version_id'], ['kiosk_question_version.id'], name=op.f('fk_answer_question_version_id_kiosk_question_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer')),
    sa.UniqueConstraint('appointment_id', 'question_version_id', name=op.f('uq_answer_appointment_id'))
    )
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_appointment_id'), ['appointment_id'], unique=False)

    op.create_table('check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('kiosk', 'desk', 'phone', name='channel', native_enum=False, length=13), nullable=False),
    sa.Column('kiosk_id', sa.String(length=64), nullable=True),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('started_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('identity_verified_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('appointment_confirmed_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('demographics_confirmed_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('insurance_confirmed_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('questions_completed_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consent_completed_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('abandoned_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_check_in_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_check_in_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in'))
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_appointment_id'), ['appointment_id'], unique=False)

    op.create_table('check_in_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('created_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_check_in_token_appointment_id_appointment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_check_in_token_token_hash'))
    )
    with op.batch_alter_table('check_in_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_token_appointment_id'), ['appointment_id'], unique=False)

    op.create_table('consent_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_relationship', sa.Enum('self', 'parent', 'guardian', 'legal-representative', name='signer_relationship', native_enum=False, length=28), nullable=False),
    sa.Column('signature_png', sa.LargeBinary(), nullable=True),
    sa.Column('language', sa.Enum('en', 'es', name='language', native_enum=False, length=10), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('signed_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kiosk_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_consent_signature_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['form_version_id'], ['consent_form_version.id'], name=op.f('fk_consent_signature_form_version_id_consent_form_version')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_consent_signature_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_signature'))
    )
    with op.batch_alter_table('consent_signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_signature_form_version_id'), ['form_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_signature_patient_id'), ['patient_id'], unique=False)

    op.create_table('flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('address_change', 'phone_change', 'email_change', 'emergency_contact_change', 'demographics_change', 'insurance_change', 'coverage_expired', 'coverage_missing', 'identity_failed', 'consent_missing', 'document_missing', 'urgent_answer', 'help_request', 'wrong_day', 'early_arrival', 'late_arrival', 'walk_in', name='flag_kind', native_enum=False, length=32), nullable=False),
    sa.Column('severity', sa.Enum('info', 'warning', 'urgent', name='flag_severity', native_enum=False, length=15), nullable=False),
    sa.Column('status', sa.Enum('open', 'accepted', 'rejected', name='flag_status', native_enum=False, length=16), nullable=False),
    sa.Column('old_value', sa.JSON(), nullable=True),
    sa.Column('new_value', sa.JSON(), nullable=True),
    sa.Column('kiosk_id', sa.String(length=64), nullable=True),
    sa.Column('raised_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['staff_user.id'], name=op.f('fk_flag_acknowledged_by_id_staff_user')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_flag_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_flag_patient_id_patient')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['staff_user.id'], name=op.f('fk_flag_resolved_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag'))
    )
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_status'))
        batch_op.drop_index(batch_op.f('ix_flag_patient_id'))
        batch_op.drop_index(batch_op.f('ix_flag_appointment_id'))

    op.drop_table('flag')
    with op.batch_alter_table('consent_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_signature_patient_id'))
        batch_op.drop_index(batch_op.f('ix_consent_signature_form_version_id'))

    op.drop_table('consent_signature')
    with op.batch_alter_table('check_in_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_token_appointment_id'))

    op.drop_table('check_in_token')
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_appointment_id'))

    op.drop_table('check_in')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_appointment_id'))

    op.drop_table('answer')
    with op.batch_alter_table('patient_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_contact_patient_id'))

    op.drop_table('patient_contact')
    with op.batch_alter_table('kiosk_question_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_question_version_question_id'))

    op.drop_table('kiosk_question_version')
    with op.batch_alter_table('coverage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coverage_patient_id'))

    op.drop_table('coverage')
    with op.batch_alter_table('consent_form_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_form_version_form_id'))

    op.drop_table('consent_form_version')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_start'))
        batch_op.drop_index(batch_op.f('ix_appointment_provider_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_patient_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_location_id'))

    op.drop_table('appointment')
    op.drop_table('staff_user')
    op.drop_table('provider')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_legal_family_name'))
        batch_op.drop_index(batch_op.f('ix_patient_birth_date'))

    op.drop_table('patient')
    op.drop_table('location')
    op.drop_table('kiosk_question')
    op.drop_table('consent_form')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
