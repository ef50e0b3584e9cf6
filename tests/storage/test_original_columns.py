"""Migration 0002_original_columns: question.updated_at and ability_estimates.fitted_at, as the
original's readers expect them, kept current by triggers."""

from __future__ import annotations

import time

from alembic import command
from sqlalchemy import Engine, text

from dreamseed.storage import migrate


def test_head_has_the_original_columns(engine: Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO question (id, meta) VALUES (1, '{}')"))
        connection.execute(
            text("INSERT INTO ability_estimates (user_id, as_of, mean, sd) VALUES ('u1', '2026-01-05', 0, 1)")
        )
        question = connection.execute(text("SELECT updated_at FROM question WHERE id = 1")).scalar_one()
        fitted = connection.execute(text("SELECT fitted_at FROM ability_estimates")).scalar_one()
    assert question is not None
    assert fitted is not None
    time.sleep(0.01)
    with engine.begin() as connection:
        connection.execute(text("UPDATE question SET difficulty = 0.5 WHERE id = 1"))
        connection.execute(text("UPDATE ability_estimates SET mean = 0.3, updated_at = now()"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT updated_at FROM question")).scalar_one() > question
        row = connection.execute(text("SELECT fitted_at, updated_at FROM ability_estimates")).one()
    assert row.fitted_at > fitted
    assert row.fitted_at == row.updated_at


def test_the_downgrade_keeps_a_question_updated_at_it_did_not_add(engine: Engine) -> None:
    config = migrate._config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002_inactivity_and_models")
        columns = connection.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'question'")
        ).scalars()
        assert "updated_at" not in set(columns)
        connection.execute(text("ALTER TABLE question ADD COLUMN updated_at timestamptz"))
        command.upgrade(config, "head")
        command.downgrade(config, "0002_inactivity_and_models")
        columns = connection.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'question'")
        ).scalars()
        assert "updated_at" in set(columns)
        ability = connection.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'ability_estimates'")
        ).scalars()
        assert "fitted_at" not in set(ability)
