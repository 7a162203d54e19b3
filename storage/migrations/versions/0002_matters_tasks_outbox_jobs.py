"""matters, tasks, link changes, outbox, feeds, jobs, points

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 19:06:02.426635
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_cursor",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_feed_cursor")),
    )
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("instance", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
        sa.UniqueConstraint("job", "period", name="uq_job_run_job_period"),
    )
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lease")),
    )
    op.create_table(
        "counter",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_counter_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("branch_id", "kind", name=op.f("pk_counter")),
    )
    op.create_table(
        "link_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("from_member_id", sa.Integer(), nullable=True),
        sa.Column("to_member_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decision_note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_link_change_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["from_member_id"], ["member.id"], name=op.f("fk_link_change_from_member_id_member")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name=op.f("fk_link_change_household_id_household")),
        sa.ForeignKeyConstraint(["to_member_id"], ["member.id"], name=op.f("fk_link_change_to_member_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_change")),
        sa.UniqueConstraint("branch_id", "number", name="uq_link_change_branch_number"),
    )
    op.create_table(
        "matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("reporter", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("state_type", sa.String(length=10), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("escalated_to", sa.String(length=50), nullable=False),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.Column("rating_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_inbound_id", sa.Integer(), nullable=True),
        sa.Column("source_chat", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["assignee_id"], ["member.id"], name=op.f("fk_matter_assignee_id_member")),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_matter_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["duplicate_of_id"], ["matter.id"], name=op.f("fk_matter_duplicate_of_id_matter")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name=op.f("fk_matter_household_id_household")),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_matter_member_id_member")),
        sa.ForeignKeyConstraint(
            ["source_inbound_id"], ["inbound_message.id"], name=op.f("fk_matter_source_inbound_id_inbound_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter")),
        sa.UniqueConstraint("branch_id", "kind", "number", name="uq_matter_branch_kind_number"),
    )
    with op.batch_alter_table("matter", schema=None) as batch_op:
        batch_op.create_index("ix_matter_branch_state", ["branch_id", "state_type"], unique=False)
        batch_op.create_index("ix_matter_household", ["household_id"], unique=False)

    op.create_table(
        "points_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("cause_key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_points_entry_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_points_entry_member_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entry")),
        sa.UniqueConstraint("cause_key", name="uq_points_entry_cause_key"),
    )
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_entry_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_points_member_at", ["member_id", "at"], unique=False)

    op.create_table(
        "matter_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=True),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["matter_id"], ["matter.id"], name=op.f("fk_matter_event_matter_id_matter"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter_event")),
    )
    with op.batch_alter_table("matter_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matter_event_matter_id"), ["matter_id"], unique=False)

    op.create_table(
        "must_visit_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("source_inbound_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_visit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_must_visit_task_branch_id_branch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_visit_id"], ["visit.id"], name=op.f("fk_must_visit_task_closed_by_visit_id_visit")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_must_visit_task_household_id_household")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_must_visit_task_member_id_member")),
        sa.ForeignKeyConstraint(
            ["source_inbound_id"],
            ["inbound_message.id"],
            name=op.f("fk_must_visit_task_source_inbound_id_inbound_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_must_visit_task")),
    )
    with op.batch_alter_table("must_visit_task", schema=None) as batch_op:
        batch_op.create_index("ix_must_visit_open", ["household_id", "closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_must_visit_task_branch_id"), ["branch_id"], unique=False)

    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=False))
        batch_op.create_index("ix_outbound_pending", ["status", "next_attempt_at"], unique=False)
        batch_op.create_unique_constraint("uq_outbound_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbound_idempotency_key", type_="unique")
        batch_op.drop_index("ix_outbound_pending")
        batch_op.drop_column("payload")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("idempotency_key")

    with op.batch_alter_table("must_visit_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_must_visit_task_branch_id"))
        batch_op.drop_index("ix_must_visit_open")

    op.drop_table("must_visit_task")
    with op.batch_alter_table("matter_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matter_event_matter_id"))

    op.drop_table("matter_event")
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_points_member_at")
        batch_op.drop_index(batch_op.f("ix_points_entry_branch_id"))

    op.drop_table("points_entry")
    with op.batch_alter_table("matter", schema=None) as batch_op:
        batch_op.drop_index("ix_matter_household")
        batch_op.drop_index("ix_matter_branch_state")

    op.drop_table("matter")
    op.drop_table("link_change")
    op.drop_table("counter")
    op.drop_table("lease")
    op.drop_table("job_run")
    op.drop_table("feed_cursor")
