"""Columns the original system's readers expect: `question.updated_at` and `ability_estimates.fitted_at`.

- `question.updated_at timestamptz NOT NULL DEFAULT now()`: the original's migration creates it and
  its readers filter on it. `question` belongs to the platform, so the column is added only when
  absent (and then marked with a comment, so that the downgrade drops only a column it added); a
  trigger moves it to now() on every update that does not set it itself.
- `ability_estimates.fitted_at timestamptz NOT NULL DEFAULT now()`: when the trend was fitted,
  filled from `updated_at` for existing rows; a trigger keeps it equal to `updated_at` whenever an
  update changes the row without setting `fitted_at` (compute-daily-kpis' upsert).

Revision ID: 0002_original_columns
Revises: 0002_inactivity_and_models
Create Date: 2026-12-06
"""

from alembic import op

revision = "0002_original_columns"
down_revision = "0002_inactivity_and_models"
branch_labels = None
depends_on = None

MARK = "added by dreamseed migration 0002_original_columns"

UPGRADE = f"""
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'question' AND column_name = 'updated_at'
    ) THEN
        ALTER TABLE question ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
        COMMENT ON COLUMN question.updated_at IS '{MARK}';
    END IF;
END $$;

CREATE FUNCTION dreamseed_question_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER dreamseed_question_touch BEFORE UPDATE ON question
    FOR EACH ROW EXECUTE FUNCTION dreamseed_question_touch();

ALTER TABLE ability_estimates ADD COLUMN fitted_at timestamptz;
UPDATE ability_estimates SET fitted_at = updated_at;
ALTER TABLE ability_estimates ALTER COLUMN fitted_at SET DEFAULT now(), ALTER COLUMN fitted_at SET NOT NULL;
CREATE INDEX ix_ability_estimates_user_fitted ON ability_estimates (user_id, fitted_at);

CREATE FUNCTION dreamseed_ability_estimates_fitted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.fitted_at IS NOT DISTINCT FROM OLD.fitted_at THEN
        NEW.fitted_at := NEW.updated_at;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER dreamseed_ability_estimates_fitted BEFORE UPDATE ON ability_estimates
    FOR EACH ROW EXECUTE FUNCTION dreamseed_ability_estimates_fitted();
"""

DOWNGRADE = f"""
DROP TRIGGER IF EXISTS dreamseed_ability_estimates_fitted ON ability_estimates;
DROP FUNCTION IF EXISTS dreamseed_ability_estimates_fitted();
DROP INDEX IF EXISTS ix_ability_estimates_user_fitted;
ALTER TABLE ability_estimates DROP COLUMN IF EXISTS fitted_at;
DROP TRIGGER IF EXISTS dreamseed_question_touch ON question;
DROP FUNCTION IF EXISTS dreamseed_question_touch();
DO $$
BEGIN
    IF col_description('question'::regclass,
        (SELECT attnum FROM pg_attribute WHERE attrelid = 'question'::regclass AND attname = 'updated_at')
    ) = '{MARK}' THEN
        ALTER TABLE question DROP COLUMN updated_at;
    END IF;
END $$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
