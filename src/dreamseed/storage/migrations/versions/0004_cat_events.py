"""`cat_events`: one row per item the adaptive service serves, answered in place.

`POST /api/seedtest/analysis/irt/next-item` inserts a row (user, session, item, θ and SE before,
policy, reason, the Sympson–Hetter rejections of that step, time); `POST …/irt/answer` fills
`correct`, `answered_at` and θ and SE after it. The rows of a (user_id, session_id) are also the
session's state, so a session survives a restart and may move between service replicas. Exposure
rates and outcomes are analysed from the same rows.

Revision ID: 0004_cat_events
Revises: 0003_console_tables
Create Date: 2026-12-06
"""

from alembic import op

revision = "0004_cat_events"
down_revision = "0003_console_tables"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE cat_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id text NOT NULL,
    session_id text NOT NULL,
    item_id text NOT NULL,
    position integer NOT NULL,              -- answers the session had when the item was served
    topic_id text,
    policy text NOT NULL,                   -- test or practice
    reason text NOT NULL,
    theta_before double precision NOT NULL,
    se_before double precision NOT NULL,
    rejected text[] NOT NULL DEFAULT '{}',  -- items whose Sympson–Hetter lottery failed this step
    version text NOT NULL,
    served_at timestamptz NOT NULL DEFAULT now(),
    correct boolean,
    answered_at timestamptz,
    theta_after double precision,
    se_after double precision,
    UNIQUE (user_id, session_id, item_id)
);
CREATE INDEX ix_cat_events_served_brin ON cat_events USING brin (served_at);
CREATE INDEX ix_cat_events_item ON cat_events (item_id);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS cat_events")
