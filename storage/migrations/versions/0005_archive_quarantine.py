"""chat-archive bridge: records the SDK could not decrypt

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03 23:30:00

The bridge's cursor is the existing feed_cursor row "archive:seq" (written with what each record produced); this
adds the table of quarantined records (seq, msgid, key version, why), listed by `lianhu archive quarantine`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("msgid", sa.String(length=128), nullable=False),
        sa.Column("publickey_ver", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_quarantine")),
        sa.UniqueConstraint("seq", name=op.f("uq_archive_quarantine_seq")),
    )


def downgrade() -> None:
    op.drop_table("archive_quarantine")
