"""county-scale indexes: current links of a branch, covering

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 20:00:00

本月未走访户 and 重点户 coverage start from "the current links of these branches" and need member and household
ids from each link: with (branch_id, valid_to, member_id, household_id) that is an index-only range scan on
PostgreSQL and a covering index on SQLite (bench/bench_queries.py, docs/scale.md).
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_link_branch_current", "link", ["branch_id", "valid_to", "member_id", "household_id"])


def downgrade() -> None:
    op.drop_index("ix_link_branch_current", table_name="link")
