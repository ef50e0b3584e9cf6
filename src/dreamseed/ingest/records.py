"""Line-level checks of platform exports.

Each checker takes one raw record and returns either the row to load or the reason it is rejected.
Question-level checks (numeric question id, boolean correctness, non-negative time) happen in the
database, in the same trigger that serves rows the platform writes directly (see migration 0001),
so both paths share one definition of a malformed question.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson


@dataclass(frozen=True)
class Rejected:
    """A record that was not loaded: where it was, why, and its raw text."""

    line_no: int
    reason: str
    raw: str
    session_id: str | None = None


@dataclass(frozen=True)
class ExamResultRow:
    """A well-formed exam result: its line number, session, user, parsed document and its times."""

    line_no: int
    session_id: str
    user_id: str
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def _identifier(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        text = str(value).strip()
        return text or None
    return None


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 timestamp; naive values are taken as UTC. None when absent or invalid."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _document_problem(document: dict[str, Any]) -> str | None:
    if _identifier(document.get("session_id")) is None:
        return "missing session_id"
    if _identifier(document.get("user_id")) is None:
        return "missing user_id"
    result = document.get("result_json")
    if not isinstance(result, dict):
        return "result_json is not a JSON object"
    if not isinstance(result.get("questions"), list):
        return "result_json.questions is not a list"
    exam_id = document.get("exam_id")
    if exam_id is not None and not (isinstance(exam_id, int) and not isinstance(exam_id, bool)):
        return "exam_id is not an integer"
    stamps = [document.get("created_at"), document.get("updated_at")]
    if all(stamp is None for stamp in stamps):
        return "missing created_at and updated_at"
    if any(stamp is not None and parse_timestamp(stamp) is None for stamp in stamps):
        return "created_at/updated_at is not an ISO-8601 timestamp"
    for key in ("score_raw", "score_scaled", "standard_error", "percentile"):
        if document.get(key) is not None and not _is_number(document[key]):
            return f"{key} is not a number"
    org_id = document.get("org_id")
    if org_id is not None and not (isinstance(org_id, int) and not isinstance(org_id, bool)):
        return "org_id is not an integer"
    if document.get("status") is not None and not isinstance(document["status"], str):
        return "status is not a string"
    return None


def check_exam_result(line_no: int, line: str) -> ExamResultRow | Rejected:
    """One JSONL line of exam results: the row to load, or why it is rejected."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:  # the standard parser accepts what orjson refuses (e.g. integers beyond 64 bits) and explains errors
            document = json.loads(line)
        except json.JSONDecodeError as error:
            return Rejected(line_no, f"unparsable JSON: {error.msg} (column {error.colno})", line)
    if not isinstance(document, dict):
        return Rejected(line_no, "line is not a JSON object", line)
    if isinstance(document.get("result_json"), str):
        with contextlib.suppress(ValueError):
            document["result_json"] = json.loads(document["result_json"])
    problem = _document_problem(document)
    session_id = _identifier(document.get("session_id"))
    if problem is not None:
        return Rejected(line_no, problem, line, session_id)
    user_id = _identifier(document.get("user_id"))
    assert session_id is not None
    assert user_id is not None
    created = parse_timestamp(document.get("created_at"))
    updated = parse_timestamp(document.get("updated_at"))
    created_at = created or updated
    updated_at = updated or created
    assert created_at is not None
    assert updated_at is not None
    return ExamResultRow(line_no, session_id, user_id, document, created_at, updated_at)


@dataclass(frozen=True)
class QuestionRow:
    id: int
    topic_id: str | None
    difficulty: float | None
    content: str | None
    meta: str


@dataclass(frozen=True)
class GoalRow:
    user_id: str
    topic_id: str
    target_level: float | None
    priority: int
    target_date: date | None
    created_at: datetime | None


def _optional_float(value: str | None, name: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} is not finite: {value!r}")
    return number


def _irt_meta(row: dict[str, str | None]) -> dict[str, Any] | None:
    a = _optional_float(row.get("a"), "a")
    b = _optional_float(row.get("b"), "b")
    c = _optional_float(row.get("c"), "c")
    if a is None and b is None and c is None:
        return None
    if b is None:
        raise ValueError("item parameters need at least b")
    if a is not None and a <= 0:
        raise ValueError(f"a must be positive, got {a}")
    if c is not None and not 0 <= c < 1:
        raise ValueError(f"c must be in [0, 1), got {c}")
    model = (row.get("model") or "").strip() or ("3PL" if c else "2PL")
    return {
        "a": 1.0 if a is None else a,
        "b": b,
        "c": c or 0.0,
        "model": model,
        "version": (row.get("version") or "").strip() or "import",
    }


def check_question(line_no: int, row: dict[str, str | None], raw: str) -> QuestionRow | Rejected:
    """One CSV row of the item bank (id,topic_id,difficulty,content,a,b,c,tags[,model,version])."""
    identifier = (row.get("id") or "").strip()
    if not identifier.isdigit() or len(identifier) > 18:
        return Rejected(line_no, f"question id is not a non-negative integer: {identifier!r}", raw)
    try:
        difficulty = _optional_float(row.get("difficulty"), "difficulty")
        irt = _irt_meta(row)
    except ValueError as error:
        return Rejected(line_no, str(error), raw)
    tags = [tag.strip() for tag in (row.get("tags") or "").split(";") if tag.strip()]
    meta: dict[str, Any] = {"tags": tags}
    if irt is not None:
        meta["irt"] = irt
    topic = (row.get("topic_id") or "").strip() or None
    content = row.get("content") or None
    return QuestionRow(int(identifier), topic, difficulty, content, json.dumps(meta))


def check_goal(line_no: int, row: dict[str, str | None], raw: str) -> GoalRow | Rejected:
    """One CSV row of goals (user_id,topic_id,target_level,priority,target_date,created_at)."""
    user_id = (row.get("user_id") or "").strip()
    if not user_id:
        return Rejected(line_no, "missing user_id", raw)
    try:
        target = _optional_float(row.get("target_level"), "target_level")
        priority_text = (row.get("priority") or "0").strip() or "0"
        if not priority_text.lstrip("-").isdigit():
            raise ValueError(f"priority is not an integer: {priority_text!r}")
        target_date_text = (row.get("target_date") or "").strip()
        target_date = date.fromisoformat(target_date_text) if target_date_text else None
    except ValueError as error:
        return Rejected(line_no, str(error), raw)
    created_text = (row.get("created_at") or "").strip()
    created_at = parse_timestamp(created_text)
    if created_text and created_at is None:
        return Rejected(line_no, "created_at is not an ISO-8601 timestamp", raw)
    topic = (row.get("topic_id") or "").strip()
    return GoalRow(user_id, topic, target, int(priority_text), target_date, created_at)
