"""The `attempt` view keeps the original V1 contract (DESIGN §3, original notes §2)."""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import Engine, text

V1_COLUMNS = [
    ("id", "bigint"),
    ("student_id", "uuid"),
    ("item_id", "bigint"),
    ("correct", "boolean"),
    ("response_time_ms", "integer"),
    ("hint_used", "boolean"),
    ("completed_at", "timestamp with time zone"),
    ("started_at", "timestamp with time zone"),
    ("attempt_no", "integer"),
    ("session_id", "text"),
    ("topic_id", "text"),
    ("user_id", "text"),
]


def insert_exam_result(
    engine: Engine,
    session_id: str,
    user_id: str,
    questions: list[dict[str, object]],
    completed_at: str = "2026-11-20T10:00:00Z",
) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO exam_results (session_id, user_id, exam_id, status, result_json, created_at,"
                " updated_at) VALUES (:s, :u, 1, 'completed', CAST(:r AS jsonb), :t, :t)"
            ),
            {"s": session_id, "u": user_id, "r": json.dumps({"questions": questions}), "t": completed_at},
        )


def test_view_has_exactly_the_v1_columns_and_types(engine: Engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'attempt' ORDER BY ordinal_position"
            )
        ).all()
    assert [tuple(row) for row in rows] == V1_COLUMNS


def test_derivations_follow_the_original(engine: Engine) -> None:
    questions = [
        {
            "question_id": "101",
            "topic": "algebra",
            "is_correct": True,
            "time_spent_sec": 12.4,
            "used_hints": 2,
        },
        {"question_id": 102, "topic": "", "correct": False, "time_spent_sec": 3},
        {"question_id": "101", "topic": "algebra", "correct": 1},
    ]
    insert_exam_result(engine, "s1", "user-7", questions)
    with engine.connect() as connection:
        exam_id = connection.execute(text("SELECT id FROM exam_results")).scalar_one()
        rows = connection.execute(text("SELECT * FROM attempt ORDER BY item_id, attempt_no")).mappings().all()
    assert len(rows) == 3
    first = rows[0]
    expected_id = int.from_bytes(
        bytes.fromhex(hashlib.md5(f"{exam_id}-101".encode()).hexdigest()[:16]), "big", signed=True
    )
    assert first["id"] == expected_id
    assert first["student_id"] == uuid.UUID(hashlib.md5(b"user-7").hexdigest())
    assert first["user_id"] == "user-7"
    assert (first["correct"], first["response_time_ms"], first["hint_used"]) == (True, 12400, True)
    assert (first["completed_at"] - first["started_at"]).total_seconds() == 12
    assert [row["attempt_no"] for row in rows[:2]] == [1, 2]
    second = rows[2]
    assert (second["item_id"], second["correct"], second["topic_id"], second["hint_used"]) == (
        102,
        False,
        None,
        False,
    )


def test_uuid_user_ids_are_kept_as_student_id(engine: Engine) -> None:
    user = str(uuid.uuid4())
    insert_exam_result(engine, "s1", user, [{"question_id": "5", "is_correct": True}])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT student_id::text FROM attempt")).scalar_one() == user


def test_each_user_maps_to_one_student_id_and_contract_columns_are_never_null(engine: Engine) -> None:
    for n in range(6):
        insert_exam_result(
            engine,
            f"s{n}",
            f"u{n % 2}",
            [{"question_id": str(n), "is_correct": n % 2 == 0}],
            completed_at=f"2026-11-2{n}T10:00:00Z",
        )
    with engine.connect() as connection:
        per_user = connection.execute(
            text("SELECT user_id, count(DISTINCT student_id) FROM attempt GROUP BY user_id")
        ).all()
        nulls = connection.execute(
            text(
                "SELECT count(*) FROM attempt WHERE id IS NULL OR student_id IS NULL OR item_id IS NULL"
                " OR correct IS NULL OR response_time_ms IS NULL OR hint_used IS NULL"
                " OR completed_at IS NULL OR attempt_no IS NULL"
            )
        ).scalar_one()
    assert sorted(tuple(row) for row in per_user) == [("u0", 1), ("u1", 1)]
    assert nulls == 0


def test_malformed_questions_are_quarantined_not_dropped(engine: Engine) -> None:
    questions: list[dict[str, object]] = [
        {"question_id": "1", "is_correct": True},
        {"question_id": "x1", "is_correct": True},
        {"question_id": "", "is_correct": True},
        {"question_id": "2", "is_correct": "yes"},
        {"question_id": "3", "is_correct": True, "time_spent_sec": -4},
        {"question_id": "4"},
    ]
    insert_exam_result(engine, "s1", "u1", questions)
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT item_id FROM attempt")).scalars().all()
        reasons = connection.execute(
            text("SELECT question_index, reason FROM ingest_quarantine ORDER BY question_index")
        ).all()
    assert kept == [1]
    assert [tuple(row) for row in reasons] == [
        (2, "non-numeric question_id"),
        (3, "missing question_id"),
        (4, "non-boolean correctness value"),
        (5, "negative time_spent_sec"),
        (6, "missing correctness"),
    ]


def test_updates_and_deletes_of_exam_results_follow_through(engine: Engine) -> None:
    insert_exam_result(engine, "s1", "u1", [{"question_id": "1", "is_correct": False}])
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE exam_results SET result_json = CAST(:r AS jsonb), updated_at = updated_at + interval '1 hour'"
            ),
            {
                "r": json.dumps(
                    {
                        "questions": [
                            {"question_id": "1", "is_correct": True},
                            {"question_id": "2", "is_correct": True},
                        ]
                    }
                )
            },
        )
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*), bool_and(correct) FROM attempt")).one() == (2, True)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM exam_results"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM attempt")).scalar_one() == 0
