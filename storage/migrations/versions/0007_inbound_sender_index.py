"""one utterance across channels: a digest of each message's words, looked up by sender

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:40:00

bot/intake.py recognises the same words from the same person arriving by a second channel (a 联户群 message and
the same text to 微信客服): words_key is a digest of the words (no @mention, no spacing); the index on
(sender, words_key, channel) makes that a few equality probes, one per other channel. Older rows have none
and simply never match.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("words_key", sa.String(length=16), nullable=True))
    op.create_index("ix_inbound_sender_words", "inbound_message", ["sender", "words_key", "channel"])


def downgrade() -> None:
    op.drop_index("ix_inbound_sender_words", table_name="inbound_message")
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_column("words_key")
