"""reply routes on outbox rows; the spent mark of an event's reply URL

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00

A reply queued before this revision has no route: it goes the way a message the bot starts
would (a group's webhook, the app to a person), never to a reply URL, so the old mark in the
inbox payload (`response_url_used`) needs no copy into `reply_url_spent_at`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.models import UTCDateTime

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_url', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
        batch_op.add_column(sa.Column('reply_url_until', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reply_person',
                                      sqlmodel.sql.sqltypes.AutoString(length=128),
                                      nullable=False, server_default=''))
    with op.batch_alter_table('inboxevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_url_spent_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inboxevent', schema=None) as batch_op:
        batch_op.drop_column('reply_url_spent_at')
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('reply_person')
        batch_op.drop_column('reply_url_until')
        batch_op.drop_column('reply_url')
