"""policy articles 3, 7, 8, 9: visit duties (五联到户), pledges (先锋承诺), members' opinions and nominations,
the branch's assessments (考评)

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-03 22:59:27

New tables only; nothing existing changes, so down drops them and up/down/up is lossless for older data.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_assessment_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_assessment_member_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint("member_id", "period", name="uq_assessment_member_period"),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "nomination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("nominee", sa.String(length=50), nullable=False),
        sa.Column("nominee_member_id", sa.Integer(), nullable=True),
        sa.Column("nominated_by", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_nomination_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["nominated_by"], ["member.id"], name=op.f("fk_nomination_nominated_by_member")),
        sa.ForeignKeyConstraint(
            ["nominee_member_id"], ["member.id"], name=op.f("fk_nomination_nominee_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nomination")),
    )
    with op.batch_alter_table("nomination", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nomination_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "pledge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_pledge_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_pledge_member_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pledge")),
    )
    with op.batch_alter_table("pledge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pledge_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_pledge_member_current", ["member_id", "valid_to"], unique=False)

    op.create_table(
        "member_opinion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opinion", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_member_opinion_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["matter_id"], ["matter.id"], name=op.f("fk_member_opinion_matter_id_matter"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_member_opinion_member_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_opinion")),
        sa.UniqueConstraint("matter_id", "member_id", name="uq_member_opinion_matter_member"),
    )
    with op.batch_alter_table("member_opinion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_opinion_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "visit_duty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("duty", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_visit_duty_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_visit_duty_visit_id_visit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_duty")),
        sa.UniqueConstraint("visit_id", "duty", name="uq_visit_duty_visit_duty"),
    )
    with op.batch_alter_table("visit_duty", schema=None) as batch_op:
        batch_op.create_index("ix_visit_duty_branch", ["branch_id", "duty"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visit_duty", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_duty_branch")

    op.drop_table("visit_duty")
    with op.batch_alter_table("member_opinion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_opinion_branch_id"))

    op.drop_table("member_opinion")
    with op.batch_alter_table("pledge", schema=None) as batch_op:
        batch_op.drop_index("ix_pledge_member_current")
        batch_op.drop_index(batch_op.f("ix_pledge_branch_id"))

    op.drop_table("pledge")
    with op.batch_alter_table("nomination", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nomination_branch_id"))

    op.drop_table("nomination")
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_branch_id"))

    op.drop_table("assessment")
