"""Drop the two indexes on exam_results that no statement reads (issue 22, item 5).

`ix_exam_results_user_exam (user_id, exam_id)` and `ix_exam_results_org_id (org_id)` came with
migration 0001 and are maintained for every exam result loaded, but no SQL in the product filters
exam_results by exam_id or org_id: the statements that look a user up (the console's sessions of a
student, the adaptive service's "has this user any answers", detect-inactivity's "next activity
of a user") range-scan `ix_exam_results_user_activity (user_id, COALESCE(updated_at, created_at))`,
which also leads with user_id, and the org_id readers (refresh-console, DIF groups) aggregate the
whole table. Indexes kept on exam_results: the primary key (updates, sessions), the unique
session_id (the upsert key) and the two activity indexes of migration 0002 (detect-inactivity,
evaluation). `tests/storage/test_migration_0006.py` checks the plans and the rows of those
statements with and without the two indexes.

The downgrade creates them again (``IF NOT EXISTS``, as 0001 did).

Revision ID: 0006_unread_exam_indexes
Revises: 0005_cat_start
Create Date: 2026-12-06
"""

from alembic import op

revision = "0006_unread_exam_indexes"
down_revision = "0005_cat_start"
branch_labels = None
depends_on = None

DROPPED = ("ix_exam_results_user_exam", "ix_exam_results_org_id")


def upgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {', '.join(DROPPED)}")


def downgrade() -> None:
    op.execute(
        """
        CREATE INDEX IF NOT EXISTS ix_exam_results_user_exam ON exam_results (user_id, exam_id);
        CREATE INDEX IF NOT EXISTS ix_exam_results_org_id ON exam_results (org_id);
        """
    )
