"""one utterance across channels: look up a sender's recent messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:40:00

bot/intake.py recognises the same words from the same person arriving by a second channel (a 联户群 message and
the same text to 微信客服) by the sender's messages near the same time; this index makes that one range read.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbound_sender_sent", "inbound_message", ["sender", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_sender_sent", table_name="inbound_message")
