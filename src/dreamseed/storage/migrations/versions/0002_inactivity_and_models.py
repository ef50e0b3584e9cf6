"""Inactivity episodes (detect-inactivity) and versioned trained models (the learned churn model).

- `user_inactivity`: one row per inactivity episode of a user, keyed by the last activity before
  the gap (`last_seen_at`). detect-inactivity opens it the first time the user is found inactive
  (`inactive_since` = UTC date of `last_seen_at` + threshold days, kept from that first run) and
  closes it (`returned_at` = the first activity after the gap) once the user comes back.
- `model_artifacts`: versioned trained models (name, version), their evaluation metrics, the
  serialised model (`payload`, bytes) and an `active` flag (at most one active version per name).
- Expression indexes so the set-based inactivity query range-scans exam_results and session by
  activity time, and finds an inactive user's next activity by user.

Revision ID: 0002_inactivity_and_models
Revises: 0001_initial
Create Date: 2026-11-29
"""

from alembic import op

revision = "0002_inactivity_and_models"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE user_inactivity (
    user_id text NOT NULL,
    last_seen_at timestamptz NOT NULL,
    inactive_since date NOT NULL,
    threshold_days integer NOT NULL,
    first_detected_on date NOT NULL,
    last_detected_on date NOT NULL,
    returned_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_user_inactivity PRIMARY KEY (user_id, last_seen_at)
);
CREATE INDEX ix_user_inactivity_open ON user_inactivity (user_id) WHERE returned_at IS NULL;
CREATE INDEX ix_user_inactivity_since ON user_inactivity (inactive_since);

CREATE TABLE model_artifacts (
    name text NOT NULL,
    version integer NOT NULL,
    trained_at timestamptz NOT NULL DEFAULT now(),
    format text NOT NULL,
    metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
    params jsonb NOT NULL DEFAULT '{}'::jsonb,
    payload bytea NOT NULL,
    sha256 text NOT NULL,
    active boolean NOT NULL DEFAULT false,
    activated_at timestamptz,
    CONSTRAINT pk_model_artifacts PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX uq_model_artifacts_one_active ON model_artifacts (name) WHERE active;

-- detect-inactivity scans the platform's exam sessions by activity time (the window) and by user
-- (did an inactive user come back?).
CREATE INDEX IF NOT EXISTS ix_exam_results_activity ON exam_results ((COALESCE(updated_at, created_at)));
CREATE INDEX IF NOT EXISTS ix_exam_results_user_activity
    ON exam_results (user_id, (COALESCE(updated_at, created_at)));
CREATE INDEX IF NOT EXISTS ix_session_activity ON session ((COALESCE(ended_at, started_at, created_at)));
"""


def upgrade() -> None:
    op.execute(TABLES)


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS ix_exam_results_activity, ix_exam_results_user_activity, ix_session_activity;
        DROP TABLE IF EXISTS model_artifacts, user_inactivity;
        """
    )
