"""The bulk loader's Python rules and the database trigger give the same attempts and reasons.

The platform may write exam_results directly (the trigger materialises attempts) or through
`dreamseed ingest` (the loader does it in Python): both paths must agree on every question.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from dreamseed.ingest.records import check_exam_result
from dreamseed.storage.ingest import load_exam_results

scalars = (
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.5, 1.5, 2.25, 12.34, -0.5, 86401.0])
)
question_ids = (
    st.none() | st.sampled_from(["", " 12 ", "7", "x7", "12.5", "0042"]) | st.integers(0, 99) | st.booleans()
)
questions = st.fixed_dictionaries(
    {},
    optional={
        "question_id": question_ids,
        "is_correct": scalars | st.sampled_from(["yes", "true"]),
        "correct": scalars,
        "time_spent_sec": scalars | st.sampled_from(["12", "fast"]),
        "used_hints": scalars | st.just("2"),
        "topic": st.none() | st.sampled_from(["", "algebra", "기하"]) | st.integers(0, 3),
    },
) | st.sampled_from([["not", "an", "object"], "text", 5])

ATTEMPT_COLUMNS = (
    "question_index, question_key, item_id, correct, response_time_ms, hints, topic_id, "
    "completed_at, session_id, user_id"
)


def snapshot(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with engine.connect() as connection:
        attempts = connection.execute(text(f"SELECT {ATTEMPT_COLUMNS} FROM attempt_fact ORDER BY 1")).all()
        reasons = connection.execute(
            text("SELECT question_index, reason FROM ingest_quarantine WHERE kind = 'question' ORDER BY 1")
        ).all()
    return [tuple(row) for row in attempts], [tuple(row) for row in reasons]


def reset(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE exam_results, attempt_fact, ingest_quarantine, session"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(questions, max_size=6))
def test_trigger_and_loader_agree(engine: Engine, items: list[object]) -> None:
    stamp = datetime(2026, 11, 3, 8, 30, tzinfo=UTC).isoformat()
    document = {
        "session_id": "s1",
        "user_id": "user-1",
        "exam_id": 3,
        "result_json": {"questions": items},
        "created_at": stamp,
        "updated_at": stamp,
    }
    reset(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO exam_results (session_id, user_id, exam_id, result_json, created_at, updated_at) "
                "VALUES ('s1', 'user-1', 3, CAST(:r AS jsonb), :t, :t)"
            ),
            {"r": json.dumps({"questions": items}), "t": stamp},
        )
    by_trigger = snapshot(engine)
    reset(engine)
    summary = load_exam_results(engine, [check_exam_result(1, json.dumps(document))], "test")
    by_loader = snapshot(engine)
    assert by_loader == by_trigger
    assert len(summary.rejected) == len(by_trigger[1])
