"""events and their reports: co-reporters, confirmed plans, make-up sign-ins, audit reasons

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 19:00:00

One event is one `activity` row however many report it; each report (and the organiser's
post of a plan) is an `activityreport` row. Existing activities get one report each, by
their registrant, so "my last entry" and undo keep working on old data.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.models import UTCDateTime

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'activityreport',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('chat', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column('inbox_id', sa.Integer(), nullable=True),
        sa.Column('source_text', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('slots', sa.JSON(), nullable=True),
        sa.Column('withdrawn', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id']),
        sa.ForeignKeyConstraint(['inbox_id'], ['inboxevent.id']),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('activityreport', schema=None) as batch_op:
        batch_op.create_index('ix_activityreport_activity_id', ['activity_id'], unique=False)
        batch_op.create_index('ix_activityreport_member_id_created_at',
                              ['member_id', 'created_at'], unique=False)

    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('outcome_asked_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('makeup', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=False, server_default=''))
    for table, column in (('activity', 'confirmed'), ('attendance', 'makeup'),
                          ('auditlog', 'reason')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, server_default=None)

    op.execute(
        "INSERT INTO activityreport (activity_id, member_id, kind, chat, inbox_id, source_text,"
        " withdrawn, created_at) SELECT id, reporter_id,"
        " CASE WHEN status = 'planned' THEN 'plan' ELSE 'report' END, '', inbox_id,"
        " source_text, withdrawn, created_at FROM activity"
    )


def downgrade() -> None:
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.drop_column('reason')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_column('makeup')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_column('outcome_asked_at')
        batch_op.drop_column('confirmed')
    with op.batch_alter_table('activityreport', schema=None) as batch_op:
        batch_op.drop_index('ix_activityreport_member_id_created_at')
        batch_op.drop_index('ix_activityreport_activity_id')
    op.drop_table('activityreport')
