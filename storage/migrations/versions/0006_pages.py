"""pages: one-time links from 看板 and the sessions they open

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.models import UTCDateTime

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pagelink',
        sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('spent_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.PrimaryKeyConstraint('nonce'),
    )
    op.create_table(
        'pagesession',
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    with op.batch_alter_table('pagesession', schema=None) as batch_op:
        batch_op.create_index('ix_pagesession_member_id', ['member_id'], unique=False)
        batch_op.create_index('ix_pagesession_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pagesession', schema=None) as batch_op:
        batch_op.drop_index('ix_pagesession_expires_at')
        batch_op.drop_index('ix_pagesession_member_id')
    op.drop_table('pagesession')
    op.drop_table('pagelink')
