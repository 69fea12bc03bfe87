"""scheduler indexes: per-member lookups by date, and a covering index for quota counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:10:00

The weekly digest asks, for 50,000 teachers at once, whether each has a report or an
attendance in the month (NOT EXISTS by member and date), and counts a period's activities
grouped by community, school and code; bench/digest.py measured these three indexes cutting
the digest's SQL time on SQLite by about two thirds.
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_reporter_id_date', ['reporter_id', 'date'], unique=False)
        batch_op.create_index('ix_activity_date_status', ['date', 'status', 'activity', 'community_id', 'school_id', 'subject', 'withdrawn'], unique=False)

    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_member_id_date', ['member_id', 'date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_member_id_date')

    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_date_status')
        batch_op.drop_index('ix_activity_reporter_id_date')
