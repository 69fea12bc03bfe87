"""identity claims: who said in chat that they are which roster member, and the outcome

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.models import UTCDateTime

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'identityclaim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('account_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=True),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('notified_id', sa.Integer(), nullable=True),
        sa.Column('identity_id', sa.Integer(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.ForeignKeyConstraint(['notified_id'], ['member.id']),
        sa.ForeignKeyConstraint(['decided_by'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('identityclaim', schema=None) as batch_op:
        batch_op.create_index('ix_identityclaim_external_id', ['external_id'], unique=False)
        batch_op.create_index('ix_identityclaim_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('identityclaim', schema=None) as batch_op:
        batch_op.drop_index('ix_identityclaim_status')
        batch_op.drop_index('ix_identityclaim_external_id')
    op.drop_table('identityclaim')
