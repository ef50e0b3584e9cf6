"""Initial schema: source tables, the materialised attempts behind the `attempt` view, quarantine,
analytics tables and job history (DESIGN §3).

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29
"""

from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# The platform owns the source tables; they are created only when absent so the product runs
# standalone against an empty database.
SOURCE_TABLES = """
CREATE TABLE IF NOT EXISTS exam_results (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id text NOT NULL UNIQUE,
    user_id text,
    exam_id integer,
    status text NOT NULL DEFAULT 'ready',
    result_json jsonb NOT NULL,
    score_raw numeric,
    score_scaled numeric,
    standard_error numeric,
    percentile numeric,
    org_id integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ix_exam_results_user_exam ON exam_results (user_id, exam_id);
CREATE INDEX IF NOT EXISTS ix_exam_results_org_id ON exam_results (org_id);

CREATE TABLE IF NOT EXISTS session (
    id text PRIMARY KEY,
    classroom_id text,
    exam_id integer,
    started_at timestamptz,
    ended_at timestamptz,
    status text,
    created_at timestamptz NOT NULL DEFAULT now(),
    user_id text,
    org_id integer
);
CREATE INDEX IF NOT EXISTS ix_session_user_ended ON session (user_id, ended_at);

CREATE TABLE IF NOT EXISTS question (
    id bigint PRIMARY KEY,
    content text,
    difficulty numeric,
    topic_id text,
    meta jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS ix_question_meta ON question USING gin (meta);
CREATE INDEX IF NOT EXISTS ix_question_topic ON question (topic_id);
"""

# One row per well-formed answered question, maintained by statement-level triggers on
# exam_results. Malformed questions go to ingest_quarantine with a reason instead.
ATTEMPTS = """
CREATE TABLE attempt_fact (
    exam_result_id uuid NOT NULL,
    question_index integer NOT NULL,
    question_key text,  -- the question_id as given, only when it is not item_id's plain digits
    user_id text NOT NULL,
    item_id bigint NOT NULL,
    correct boolean NOT NULL,
    response_time_ms integer NOT NULL,
    hints integer NOT NULL,
    completed_at timestamptz NOT NULL,
    session_id text NOT NULL,
    topic_id text,
    exam_id integer,
    PRIMARY KEY (exam_result_id, question_index)
);
-- Jobs read by time range (BRIN) and by user (btree); every extra index slows ingestion.
CREATE INDEX ix_attempt_fact_user_completed ON attempt_fact (user_id, completed_at);
CREATE INDEX ix_attempt_fact_completed_brin ON attempt_fact USING brin (completed_at);

CREATE TABLE ingest_quarantine (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    source text,
    line_no integer,
    session_id text,
    question_index integer,
    reason text NOT NULL,
    raw text,
    batch_id text,
    fingerprint text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_ingest_quarantine_batch ON ingest_quarantine (batch_id);

CREATE FUNCTION dreamseed_student_uuid(user_id text) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN user_id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
        THEN user_id::uuid
        ELSE md5(user_id)::uuid
    END
$$;

CREATE FUNCTION dreamseed_question_problem(q jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN jsonb_typeof(q) IS DISTINCT FROM 'object' THEN 'question is not a JSON object'
        WHEN q->>'question_id' IS NULL OR btrim(q->>'question_id') = '' THEN 'missing question_id'
        WHEN jsonb_typeof(q->'question_id') NOT IN ('string', 'number')
             OR btrim(q->>'question_id') !~ '^[0-9]{1,18}$' THEN 'non-numeric question_id'
        WHEN COALESCE(q->'is_correct', q->'correct') IS NULL
             OR jsonb_typeof(COALESCE(q->'is_correct', q->'correct')) = 'null' THEN 'missing correctness'
        WHEN NOT (jsonb_typeof(COALESCE(q->'is_correct', q->'correct')) = 'boolean'
                  OR COALESCE(q->'is_correct', q->'correct') IN ('0'::jsonb, '1'::jsonb))
             THEN 'non-boolean correctness value'
        WHEN jsonb_typeof(q->'time_spent_sec') NOT IN ('number', 'null') THEN 'non-numeric time_spent_sec'
        WHEN (q->>'time_spent_sec')::numeric < 0 THEN 'negative time_spent_sec'
        WHEN (q->>'time_spent_sec')::numeric > 86400 THEN 'time_spent_sec over one day'
        WHEN jsonb_typeof(q->'used_hints') NOT IN ('number', 'boolean', 'null') THEN 'non-numeric used_hints'
        WHEN jsonb_typeof(q->'used_hints') = 'number' AND (q->>'used_hints')::numeric < 0
             THEN 'negative used_hints'
        ELSE NULL
    END
$$;

CREATE FUNCTION dreamseed_materialise_attempts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    expected bigint;
    materialised bigint;
BEGIN
    -- The bulk loader (dreamseed ingest) materialises attempts itself with the same rules.
    IF current_setting('dreamseed.bulk_loader', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM attempt_fact a USING changed_rows c WHERE a.exam_result_id = c.id;
    END IF;
    INSERT INTO attempt_fact (
        exam_result_id, question_index, question_key, user_id, item_id, correct,
        response_time_ms, hints, completed_at, session_id, topic_id, exam_id)
    SELECT e.id, q.ordinality::integer,
           NULLIF(btrim(q.value->>'question_id'), (btrim(q.value->>'question_id')::bigint)::text),
           e.user_id,
           btrim(q.value->>'question_id')::bigint,
           CASE jsonb_typeof(COALESCE(q.value->'is_correct', q.value->'correct'))
               WHEN 'boolean' THEN (COALESCE(q.value->'is_correct', q.value->'correct'))::boolean
               ELSE COALESCE(q.value->'is_correct', q.value->'correct') = '1'::jsonb END,
           round(COALESCE((q.value->>'time_spent_sec')::numeric, 0) * 1000)::integer,
           CASE jsonb_typeof(q.value->'used_hints')
               WHEN 'number' THEN round((q.value->>'used_hints')::numeric)::integer
               WHEN 'boolean' THEN (q.value->>'used_hints')::boolean::integer
               ELSE 0 END,
           COALESCE(e.updated_at, e.created_at),
           e.session_id,
           NULLIF(q.value->>'topic', ''),
           e.exam_id
    FROM changed_rows e
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(e.result_json->'questions') = 'array'
             THEN e.result_json->'questions' ELSE '[]'::jsonb END
    ) WITH ORDINALITY AS q
    WHERE e.user_id IS NOT NULL AND e.user_id <> '' AND dreamseed_question_problem(q.value) IS NULL;
    GET DIAGNOSTICS materialised = ROW_COUNT;

    -- Malformed questions are rare: look for them only when some question was not materialised.
    SELECT COALESCE(sum(jsonb_array_length(e.result_json->'questions')), 0) INTO expected
    FROM changed_rows e
    WHERE e.user_id IS NOT NULL AND e.user_id <> '' AND jsonb_typeof(e.result_json->'questions') = 'array';
    IF expected > materialised THEN
        INSERT INTO ingest_quarantine (kind, source, session_id, question_index, reason, raw, batch_id, fingerprint)
        SELECT 'question', 'exam_results', e.session_id, q.ordinality::integer, p.problem, q.value::text,
               current_setting('dreamseed.batch_id', true),
               md5('question|' || e.id::text || '|' || q.ordinality || '|' || p.problem || '|' || q.value::text)
        FROM changed_rows e
        CROSS JOIN LATERAL jsonb_array_elements(e.result_json->'questions') WITH ORDINALITY AS q
        CROSS JOIN LATERAL (SELECT dreamseed_question_problem(q.value) AS problem) p
        WHERE e.user_id IS NOT NULL AND e.user_id <> '' AND jsonb_typeof(e.result_json->'questions') = 'array'
              AND p.problem IS NOT NULL
        ON CONFLICT (fingerprint) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION dreamseed_forget_attempts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM attempt_fact a USING removed_rows r WHERE a.exam_result_id = r.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER exam_results_attempts_insert AFTER INSERT ON exam_results
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dreamseed_materialise_attempts();
CREATE TRIGGER exam_results_attempts_update AFTER UPDATE ON exam_results
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dreamseed_materialise_attempts();
CREATE TRIGGER exam_results_attempts_delete AFTER DELETE ON exam_results
    REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dreamseed_forget_attempts();
"""

# The V1 contract (11 columns) plus user_id, as a view over the materialised copy.
ATTEMPT_VIEW = """
CREATE VIEW attempt AS
SELECT ('x' || substr(md5(a.exam_result_id::text || '-' || COALESCE(a.question_key, a.item_id::text)), 1, 16))
           ::bit(64)::bigint AS id,
       dreamseed_student_uuid(a.user_id) AS student_id,
       a.item_id,
       a.correct,
       a.response_time_ms,
       (a.hints > 0) AS hint_used,
       a.completed_at,
       a.completed_at - make_interval(secs => round(a.response_time_ms / 1000.0)::double precision) AS started_at,
       (row_number() OVER (PARTITION BY a.user_id, a.item_id
                           ORDER BY a.completed_at, a.exam_result_id, a.question_index))::integer
           AS attempt_no,
       a.session_id,
       a.topic_id,
       a.user_id
FROM attempt_fact a;
"""

ANALYTICS_TABLES = """
CREATE TABLE features_topic_daily (
    user_id text NOT NULL,
    topic_id text NOT NULL,
    date date NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    correct integer NOT NULL DEFAULT 0,
    avg_time_ms integer,
    rt_median integer,
    hints integer NOT NULL DEFAULT 0,
    theta_estimate double precision,
    theta_sd double precision,
    improvement double precision,
    last_seen_at timestamptz,
    computed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_features_topic_daily PRIMARY KEY (user_id, topic_id, date)
);
CREATE INDEX ix_ftd_topic_date ON features_topic_daily (topic_id, date);
CREATE INDEX ix_ftd_user_date ON features_topic_daily (user_id, date);

CREATE TABLE weekly_kpi (
    user_id text NOT NULL,
    week_start date NOT NULL,
    kpis jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_weekly_kpi PRIMARY KEY (user_id, week_start)
);
CREATE INDEX ix_weekly_kpi_week_start ON weekly_kpi (week_start);

CREATE TABLE mirt_item_params (
    item_id text PRIMARY KEY,
    model text,
    params jsonb NOT NULL,
    version text,
    run_id text,
    fitted_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE mirt_item_params_history (
    run_id text NOT NULL,
    item_id text NOT NULL,
    model text,
    params jsonb NOT NULL,
    version text,
    fitted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, item_id)
);
CREATE INDEX ix_mirt_item_params_history_item ON mirt_item_params_history (item_id, fitted_at);

CREATE TABLE mirt_ability (
    user_id text NOT NULL,
    version text NOT NULL,
    theta double precision NOT NULL,
    se double precision,
    model text,
    run_id text,
    fitted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, version)
);
CREATE INDEX ix_mirt_ability_user_fitted ON mirt_ability (user_id, fitted_at);
CREATE TABLE mirt_ability_history (
    user_id text NOT NULL,
    run_id text NOT NULL,
    theta double precision NOT NULL,
    se double precision,
    model text,
    version text,
    source text NOT NULL DEFAULT 'calibration',
    fitted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, run_id)
);
CREATE INDEX ix_mirt_ability_history_user_fitted ON mirt_ability_history (user_id, fitted_at);
CREATE INDEX ix_mirt_ability_history_fitted ON mirt_ability_history (fitted_at);

CREATE TABLE student_topic_theta (
    user_id text NOT NULL,
    topic_id text NOT NULL,
    theta double precision NOT NULL,
    se double precision,
    model text NOT NULL,
    version text,
    run_id text,
    fitted_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, topic_id)
);
CREATE TABLE student_topic_theta_history (
    user_id text NOT NULL,
    topic_id text NOT NULL,
    run_id text NOT NULL,
    theta double precision NOT NULL,
    se double precision,
    fitted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, topic_id, run_id)
);
CREATE INDEX ix_stth_fitted ON student_topic_theta_history (fitted_at);

CREATE TABLE mirt_fit_meta (
    run_id text PRIMARY KEY,
    model_spec jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
    fitted_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ability_estimates (
    user_id text NOT NULL,
    as_of date NOT NULL,
    mean double precision,
    sd double precision,
    slope double precision,
    slope_se double precision,
    n_points integer,
    method text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, as_of)
);

CREATE TABLE interest_goal (
    user_id text NOT NULL,
    topic_id text NOT NULL,
    target_level double precision,
    priority smallint NOT NULL DEFAULT 0,
    target_date date,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX ix_interest_goal_topic ON interest_goal (topic_id);

CREATE TABLE report_artifacts (
    id bigserial PRIMARY KEY,
    user_id text NOT NULL,
    week_start date NOT NULL,
    format text NOT NULL DEFAULT 'html',
    url text NOT NULL,
    bytes bigint,
    sha256 text,
    generated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_report_artifacts_user_week_format UNIQUE (user_id, week_start, format)
);
CREATE INDEX ix_report_artifacts_generated ON report_artifacts (generated_at);

CREATE TABLE job_runs (
    id bigserial PRIMARY KEY,
    run_id text NOT NULL UNIQUE,
    job text NOT NULL,
    run_date date,
    params jsonb NOT NULL DEFAULT '{}'::jsonb,
    status text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    processed integer,
    failed integer,
    duration_ms integer,
    error text,
    metrics jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX ix_job_runs_job_started ON job_runs (job, started_at DESC);

-- Small key/value facts about this database (e.g. that it holds the demo's synthetic data).
CREATE TABLE dreamseed_meta (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


def upgrade() -> None:
    op.execute(SOURCE_TABLES)
    op.execute(ATTEMPTS)
    # Existing platform history: materialise it once through the same trigger code path.
    op.execute("UPDATE exam_results SET updated_at = updated_at")
    op.execute(ATTEMPT_VIEW)
    op.execute(ANALYTICS_TABLES)


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS dreamseed_meta, job_runs, report_artifacts, interest_goal, ability_estimates, mirt_fit_meta,
            student_topic_theta_history, student_topic_theta, mirt_ability_history, mirt_ability,
            mirt_item_params_history, mirt_item_params, weekly_kpi, features_topic_daily;
        DROP VIEW IF EXISTS attempt;
        DROP TRIGGER IF EXISTS exam_results_attempts_insert ON exam_results;
        DROP TRIGGER IF EXISTS exam_results_attempts_update ON exam_results;
        DROP TRIGGER IF EXISTS exam_results_attempts_delete ON exam_results;
        DROP FUNCTION IF EXISTS dreamseed_materialise_attempts(), dreamseed_forget_attempts(),
            dreamseed_question_problem(jsonb), dreamseed_student_uuid(text);
        DROP TABLE IF EXISTS ingest_quarantine, attempt_fact;
        """
    )
