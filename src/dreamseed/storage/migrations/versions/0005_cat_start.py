"""`cat_events.start` and `prior_mean`: where an adaptive session started.

next-item starts a session from the student's stored θ (mirt_ability of the version) when there is
one, else from the population prior; each served row carries that start ("stored" or "prior") and
its θ (the mean of the session's N(prior_mean, 1) prior), so every later next-item and answer of
the session scores with the same prior. A partial index on answered rows serves the
"answered within N days" exclusion and the weekly count of adaptive answers.

Revision ID: 0005_cat_start
Revises: 0004_cat_events
Create Date: 2026-12-06
"""

from alembic import op

revision = "0005_cat_start"
down_revision = "0004_cat_events"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE cat_events
    ADD COLUMN start text NOT NULL DEFAULT 'prior',
    ADD COLUMN prior_mean double precision NOT NULL DEFAULT 0;
CREATE INDEX ix_cat_events_user_answered ON cat_events (user_id, answered_at) WHERE answered_at IS NOT NULL;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(
        "DROP INDEX IF EXISTS ix_cat_events_user_answered; "
        "ALTER TABLE cat_events DROP COLUMN IF EXISTS start, DROP COLUMN IF EXISTS prior_mean"
    )
