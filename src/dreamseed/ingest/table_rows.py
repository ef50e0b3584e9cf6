"""Row-level checks of the item bank and goals CSV exports.

Each checker takes one CSV row (a dict of column → text) and its raw text and returns either the
row to load or the reason it is rejected; none raises. Text that PostgreSQL would refuse (NUL,
bytes that were not UTF-8, over-long keys), numbers out of their column's range and implausible
dates are reasons like any other.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dreamseed.ingest.limits import (
    INT2_MAX,
    INT2_MIN,
    MAX_ID_LENGTH,
    MAX_SHORT_TEXT_LENGTH,
    MAX_TOPIC_LENGTH,
    DateWindow,
    parse_timestamp,
    target_date_problem,
    text_problem,
    timestamp_problem,
    undecoded_problem,
)
from dreamseed.ingest.rejected import Rejected

CsvRow = dict[str, str | None]


@dataclass(frozen=True)
class QuestionRow:
    id: int
    topic_id: str | None
    difficulty: float | None
    content: str | None
    meta: str
    line_no: int = 0


@dataclass(frozen=True)
class GoalRow:
    user_id: str
    topic_id: str
    target_level: float | None
    priority: int
    target_date: date | None
    created_at: datetime | None
    line_no: int = 0


def _field_problem(row: CsvRow, limits: dict[str, int]) -> str | None:
    """The first field that is not valid UTF-8, holds NUL, or is longer than its limit in `limits`."""
    for name, value in row.items():
        values = value if isinstance(value, list) else [value]  # csv puts extra fields in a list
        for text in values:
            if not isinstance(text, str):
                continue
            label = name if isinstance(name, str) else "an extra field"
            problem = undecoded_problem(text, label) or text_problem(
                text.strip(), label, limits.get(label) if isinstance(name, str) else None
            )
            if problem is not None:
                return problem
    return None


def _optional_float(value: str | None, name: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} is not a number: {value[:40]!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} is not finite: {value[:40]!r}")
    return number


def _irt_meta(row: CsvRow) -> dict[str, Any] | None:
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


_QUESTION_LIMITS = {
    "topic_id": MAX_TOPIC_LENGTH,
    "model": MAX_SHORT_TEXT_LENGTH,
    "version": MAX_SHORT_TEXT_LENGTH,
}


def check_question(line_no: int, row: CsvRow, raw: str) -> QuestionRow | Rejected:
    """One CSV row of the item bank (id,topic_id,difficulty,content,a,b,c,tags[,model,version])."""
    if problem := _field_problem(row, _QUESTION_LIMITS):
        return Rejected(line_no, problem, raw)
    identifier = (row.get("id") or "").strip()
    if not (identifier.isascii() and identifier.isdigit()) or len(identifier) > 18:
        return Rejected(line_no, f"question id is not a non-negative integer: {identifier[:40]!r}", raw)
    try:
        difficulty = _optional_float(row.get("difficulty"), "difficulty")
        irt = _irt_meta(row)
    except ValueError as error:
        return Rejected(line_no, str(error), raw)
    tags = [tag.strip() for tag in (row.get("tags") or "").split(";") if tag.strip()]
    if any(len(tag) > MAX_SHORT_TEXT_LENGTH for tag in tags):
        return Rejected(line_no, f"a tag is longer than {MAX_SHORT_TEXT_LENGTH} characters", raw)
    meta: dict[str, Any] = {"tags": tags}
    if irt is not None:
        meta["irt"] = irt
    topic = (row.get("topic_id") or "").strip() or None
    content = row.get("content") or None
    return QuestionRow(int(identifier), topic, difficulty, content, json.dumps(meta), line_no)


def _priority(row: CsvRow) -> int:
    text = (row.get("priority") or "0").strip() or "0"
    if not (text.lstrip("-").isascii() and text.lstrip("-").isdigit()) or len(text) > 6:
        raise ValueError(f"priority is not an integer: {text[:40]!r}")
    if not INT2_MIN <= int(text) <= INT2_MAX:
        raise ValueError(f"priority is out of range for a 16-bit integer: {text}")
    return int(text)


def _target_date(row: CsvRow, window: DateWindow) -> date | None:
    text = (row.get("target_date") or "").strip()
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"target_date is not a date (YYYY-MM-DD): {text[:40]!r}") from None
    if problem := target_date_problem(value, window):
        raise ValueError(problem)
    return value


_GOAL_LIMITS = {"user_id": MAX_ID_LENGTH, "topic_id": MAX_TOPIC_LENGTH}


def check_goal(line_no: int, row: CsvRow, raw: str, window: DateWindow | None = None) -> GoalRow | Rejected:
    """One CSV row of goals (user_id,topic_id,target_level,priority,target_date,created_at)."""
    window = window or DateWindow()
    if problem := _field_problem(row, _GOAL_LIMITS):
        return Rejected(line_no, problem, raw)
    user_id = (row.get("user_id") or "").strip()
    if not user_id:
        return Rejected(line_no, "missing user_id", raw)
    try:
        target = _optional_float(row.get("target_level"), "target_level")
        priority = _priority(row)
        target_date = _target_date(row, window)
    except ValueError as error:
        return Rejected(line_no, str(error), raw)
    created_text = (row.get("created_at") or "").strip()
    created_at = parse_timestamp(created_text)
    if created_text and created_at is None:
        return Rejected(line_no, "created_at is not an ISO-8601 timestamp", raw)
    if created_at is not None and (problem := timestamp_problem(created_at, "created_at", window)):
        return Rejected(line_no, problem, raw)
    topic = (row.get("topic_id") or "").strip()
    return GoalRow(user_id, topic, target, priority, target_date, created_at, line_no)
