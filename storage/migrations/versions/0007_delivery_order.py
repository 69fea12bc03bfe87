"""delivery order and shared rate limits: a chat's rows by target, recent sends per key

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 22:00:00

Re-chained at merge after the parallel 0005/0006.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.models import UTCDateTime

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sendlog',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('sendlog', schema=None) as batch_op:
        batch_op.create_index('ix_sendlog_key_at', ['key', 'at'], unique=False)
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.create_index('ix_outboxmessage_target_order',
                              ['platform', 'app_id', 'target_kind', 'target', 'status', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outboxmessage_target_order')
    with op.batch_alter_table('sendlog', schema=None) as batch_op:
        batch_op.drop_index('ix_sendlog_key_at')
    op.drop_table('sendlog')
