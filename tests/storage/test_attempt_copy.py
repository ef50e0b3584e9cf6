"""The binary COPY the loader encodes itself lands the same attempts as the database trigger,
for every column, across block boundaries, with odd times, texts and a missing exam id."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, text

from dreamseed.ingest.records import check_exam_result
from dreamseed.storage.copy_writer import BLOCK_BYTES
from dreamseed.storage.ingest import load_exam_results

COLUMNS = (
    "e.session_id, a.question_index, a.question_key, a.user_id, a.item_id, a.correct, a.response_time_ms, "
    "a.hints, a.completed_at, a.session_id, a.topic_id, a.exam_id"
)


def documents() -> list[dict[str, Any]]:
    """One long exam result (several COPY blocks) and a few short ones with odd values."""
    long_exam = [
        {"question_id": str(1000 + n % 300), "topic": f"topic-{n % 7}", "is_correct": n % 3 == 0,
         "time_spent_sec": n % 50 + 0.5, "used_hints": n % 4}
        for n in range(3000)
    ]  # fmt: skip
    odd = [
        {"question_id": "0042", "topic": "기하", "correct": 1, "time_spent_sec": 2.0005},
        {"question_id": 7, "is_correct": False, "used_hints": 2.5},
        {"question_id": " 12 ", "topic": None, "is_correct": True, "time_spent_sec": 86400},
        {"question_id": "x", "is_correct": True},
        {"question_id": "99", "topic": "tab\there \\ back", "is_correct": True, "time_spent_sec": 0},
    ]
    # The same id, time and topic in other spellings, after the encoder has remembered the first.
    respelled = [
        {"question_id": "7", "is_correct": True, "time_spent_sec": 1, "topic": "t"},
        {"question_id": 7, "is_correct": True, "time_spent_sec": 1.0, "topic": "t"},
        {"question_id": "07", "is_correct": True, "time_spent_sec": True, "topic": ""},
        {"question_id": 7.0, "is_correct": True, "time_spent_sec": 0.0005},
        {"question_id": True, "is_correct": True},
        {"question_id": "7", "is_correct": 1, "used_hints": True, "topic": 5},
        {"question_id": "7", "is_correct": False, "time_spent_sec": -1.0},
    ]
    return [
        {"session_id": "long", "user_id": "u-1", "exam_id": 2_000_000_000, "result_json": {"questions": long_exam},
         "created_at": "2026-11-03T08:30:00.123456+02:00", "updated_at": "2026-11-03T09:00:00.999999+02:00"},
        {"session_id": "séance", "user_id": "ü-2", "result_json": {"questions": odd},
         "created_at": "2001-02-03T04:05:06"},
        {"session_id": "s3", "user_id": "u3", "exam_id": -5, "result_json": {"questions": odd[:2]},
         "updated_at": "2026-06-30T23:59:59.000001Z"},
        {"session_id": "s4", "user_id": "u4", "result_json": {"questions": respelled},
         "updated_at": "2026-06-30T12:00:00Z"},
    ]  # fmt: skip


def attempts(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT {COLUMNS} FROM attempt_fact a JOIN exam_results e ON e.id = a.exam_result_id "
                "ORDER BY 1, 2"
            )
        ).all()
    return [tuple(row) for row in rows]


def test_encoded_attempts_equal_the_triggers_attempts(engine: Engine) -> None:
    docs = documents()
    assert len(json.dumps(docs[0])) > 2 * BLOCK_BYTES
    with engine.begin() as connection:  # the platform's own path: the trigger materialises attempts
        for doc in docs:
            connection.execute(
                text(
                    "INSERT INTO exam_results (session_id, user_id, exam_id, result_json, created_at, updated_at)"
                    " VALUES (:s, :u, :e, CAST(:r AS jsonb), CAST(:c AS timestamptz), CAST(:t AS timestamptz))"
                ),
                {
                    "s": doc["session_id"],
                    "u": doc["user_id"],
                    "e": doc.get("exam_id"),
                    "r": json.dumps(doc["result_json"]),
                    "c": doc.get("created_at") or doc["updated_at"],
                    "t": doc.get("updated_at") or doc["created_at"],
                },
            )
    by_trigger = attempts(engine)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE exam_results, attempt_fact, ingest_quarantine, session"))
    lines = [json.dumps(doc, ensure_ascii=False) for doc in docs]
    summary = load_exam_results(engine, [check_exam_result(n, line) for n, line in enumerate(lines, 1)], "t")
    assert summary.inserted == 4
    assert [r.reason for r in summary.rejected] == [
        "question 4: non-numeric question_id",
        "question 3: non-numeric time_spent_sec",
        "question 4: non-numeric question_id",
        "question 5: non-numeric question_id",
        "question 7: negative time_spent_sec",
    ]
    by_loader = attempts(engine)
    assert len(by_loader) == 3000 + 4 + 2 + 3
    assert by_loader == by_trigger
    by_question = {(row[0], row[1]): row[2:] for row in by_loader}
    assert by_question["s3", 2] == (None, "u3", 7, False, 0, 3, by_question["s3", 2][6], "s3", None, -5)
    assert by_question["séance", 1][:6] == ("0042", "ü-2", 42, True, 2001, 0)
    assert by_question["séance", 5][-3:] == ("séance", "tab\there \\ back", None)
    assert str(by_question["long", 1][6]) == "2026-11-03 07:00:00.999999+00:00"
