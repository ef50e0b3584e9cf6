"""Precomputed tables the console reads (filled by `dreamseed run refresh-console`).

- `console_student`: one row per student: org, latest KPI week and values, θ and its change, the
  at-risk reasons (days since last session, engagement drop, θ trend, P of the goal), the latest
  report. Indexed for the at-risk list (by org, then S descending).
- `console_cohort`: per (org or '*', goal topic or '*', week, metric) the count, mean, quantiles and
  a histogram of each KPI and of θ, plus the active / inactive / high-risk counts.
- `console_item`: per item the latest a, b, c and SEs, answers seen, share correct, infit/outfit,
  drift against the previous run, anchor tag and flags.
- `console_quarantine`: counts of quarantined lines by kind and reason.

Revision ID: 0003_console_tables
Revises: 0002_original_columns
Create Date: 2026-12-06
"""

from alembic import op

revision = "0003_console_tables"
down_revision = "0002_original_columns"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE console_student (
    user_id text PRIMARY KEY,
    org_id integer,
    week_start date,
    last_seen_at timestamptz,
    days_since_last integer,
    sessions_28d integer,
    theta double precision,
    theta_se double precision,
    theta_change double precision,
    i_t double precision,
    e_t double precision,
    r_t double precision,
    a_t double precision,
    a_t_change double precision,
    p double precision,
    s double precision,
    s_band text,
    goal_topic text,
    goal_target double precision,
    goal_date date,
    inactive boolean NOT NULL DEFAULT false,
    report_week date,
    report_url text,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_console_student_org_risk ON console_student (org_id, s DESC NULLS LAST, user_id);
CREATE INDEX ix_console_student_risk ON console_student (s DESC NULLS LAST, user_id);
CREATE INDEX ix_console_student_goal ON console_student (goal_topic, s DESC NULLS LAST);

CREATE TABLE console_cohort (
    org_key text NOT NULL,
    goal_key text NOT NULL,
    week_start date NOT NULL,
    metric text NOT NULL,
    n integer NOT NULL,
    mean double precision,
    p10 double precision,
    p25 double precision,
    p50 double precision,
    p75 double precision,
    p90 double precision,
    bins jsonb NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (org_key, goal_key, week_start, metric)
);

CREATE TABLE console_item (
    item_id text PRIMARY KEY,
    topic_id text,
    model text,
    a double precision,
    b double precision,
    c double precision,
    se_a double precision,
    se_b double precision,
    se_c double precision,
    n_answers integer,
    p_correct double precision,
    infit double precision,
    outfit double precision,
    delta_a double precision,
    delta_b double precision,
    previous_run_id text,
    anchor boolean NOT NULL DEFAULT false,
    flags text[] NOT NULL DEFAULT '{}',
    run_id text,
    fitted_at timestamptz
);
CREATE INDEX ix_console_item_topic ON console_item (topic_id, item_id);

CREATE TABLE console_quarantine (
    kind text NOT NULL,
    reason text NOT NULL,
    n bigint NOT NULL,
    last_at timestamptz,
    PRIMARY KEY (kind, reason)
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS console_quarantine;
DROP TABLE IF EXISTS console_item;
DROP TABLE IF EXISTS console_cohort;
DROP TABLE IF EXISTS console_student;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
