"""a member's private daily list of residents' words that made no record

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 03:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attention_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("said_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("matter_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_attention_item_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_attention_item_member_id_member")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_attention_item_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["inbound_id"], ["inbound_message.id"], name=op.f("fk_attention_item_inbound_id_inbound_message")
        ),
        sa.ForeignKeyConstraint(["matter_id"], ["matter.id"], name=op.f("fk_attention_item_matter_id_matter")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attention_item")),
    )
    op.create_index(op.f("ix_attention_item_branch_id"), "attention_item", ["branch_id"])
    op.create_index("ix_attention_member_listed", "attention_item", ["member_id", "listed_at"])


def downgrade() -> None:
    op.drop_index("ix_attention_member_listed", table_name="attention_item")
    op.drop_index(op.f("ix_attention_item_branch_id"), table_name="attention_item")
    op.drop_table("attention_item")
