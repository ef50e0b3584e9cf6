"""Small hand-made platform data for tests, loaded through the production ingestion path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from dreamseed.ingest.records import check_exam_result
from dreamseed.storage.ingest import load_exam_results


def question(
    item: int, correct: bool, seconds: float = 20.0, topic: str = "algebra", hints: int = 0
) -> dict[str, Any]:
    return {
        "question_id": str(item),
        "topic": topic,
        "is_correct": correct,
        "time_spent_sec": seconds,
        "used_hints": hints,
    }


def exam_result(session: str, user: str, completed: datetime, questions: list[dict[str, Any]]) -> str:
    stamp = completed.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "session_id": session,
            "user_id": user,
            "exam_id": 1,
            "status": "completed",
            "result_json": {"questions": questions},
            "created_at": stamp,
            "updated_at": stamp,
        }
    )


def load(engine: Engine, lines: list[str]) -> None:
    summary = load_exam_results(
        engine, (check_exam_result(n, line) for n, line in enumerate(lines, 1)), "test"
    )
    assert not summary.rejected, summary.rejected


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def steady_learner(
    user: str,
    first_day: str,
    days: int,
    per_day: int = 8,
    accuracy_from: float = 0.4,
    accuracy_to: float = 0.8,
) -> list[str]:
    """A user with one session a day whose accuracy rises linearly; deterministic."""
    lines = []
    start = datetime.fromisoformat(first_day)
    for d in range(days):
        accuracy = accuracy_from + (accuracy_to - accuracy_from) * d / max(1, days - 1)
        n_correct = round(accuracy * per_day)
        questions = [
            question(
                100 + (d * per_day + k) % 40,
                k < n_correct,
                10 + k,
                "algebra" if k % 2 else "geometry",
                hints=int(k == 0),
            )
            for k in range(per_day)
        ]
        lines.append(
            exam_result(
                f"{user}-s{d}", user, at((start + timedelta(days=d)).date().isoformat(), 9 + d % 8), questions
            )
        )
    return lines


def table_fingerprints(engine: Engine) -> dict[str, str]:
    """A hash of every table's full contents, to show that something wrote nothing."""
    with engine.connect() as connection:
        tables = (
            connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            )
            .scalars()
            .all()
        )
        return {
            table: connection.execute(
                text(
                    f"SELECT count(*) || ':' || COALESCE(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
                    f'FROM "{table}" t'
                )
            ).scalar_one()
            for table in tables
        }
