"""From one exam result to its attempt rows, in Python, for the bulk loader.

The rules are those of the database trigger that serves rows the platform writes directly
(`dreamseed_question_problem` and `dreamseed_materialise_attempts` in migration 0001); a test
checks that both give the same rows and the same reasons. Doing it here lets the loader COPY
typed attempt rows instead of expanding JSON inside PostgreSQL, which is several times faster.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dreamseed.ingest.limits import INT4_MAX, MAX_TOPIC_LENGTH

_DIGITS = re.compile(r"[0-9]{1,18}")
_MISSING = object()
MAX_SECONDS = 86400


@dataclass(frozen=True)
class QuestionProblem:
    """A question that is not materialised: its 1-based index in the list, the reason, its JSON."""

    index: int
    reason: str
    raw: str


def _as_text(value: Any) -> str | None:
    """What PostgreSQL's `->>` gives for a JSON value (None for a missing key or JSON null)."""
    if value is None or value is _MISSING:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _correctness(question: dict[str, Any]) -> Any:
    return question["is_correct"] if "is_correct" in question else question.get("correct", _MISSING)


def _decimal(value: int | float) -> Decimal:
    """The exact decimal a JSON number spells (what PostgreSQL's numeric cast sees)."""
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _round_half_up(value: Decimal) -> int:
    """PostgreSQL's round(numeric): halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def question_problem(question: Any) -> str | None:
    """Why a question cannot become an attempt, or None when it is well formed."""
    if not isinstance(question, dict):
        return "question is not a JSON object"
    identifier = _as_text(question.get("question_id"))
    if identifier is None or identifier.strip(" ") == "":
        return "missing question_id"
    if (
        not isinstance(question["question_id"], str | int | float)
        or isinstance(question["question_id"], bool)
        or not _DIGITS.fullmatch(identifier.strip(" "))
    ):
        return "non-numeric question_id"
    correct = _correctness(question)
    if correct is _MISSING or correct is None:
        return "missing correctness"
    if not (isinstance(correct, bool) or (_is_number(correct) and correct in (0, 1))):
        return "non-boolean correctness value"
    seconds = question.get("time_spent_sec")
    if seconds is not None and not _is_number(seconds):
        return "non-numeric time_spent_sec"
    if seconds is not None and seconds < 0:
        return "negative time_spent_sec"
    if seconds is not None and seconds > MAX_SECONDS:
        return "time_spent_sec over one day"
    hints = question.get("used_hints")
    if hints is not None and not (_is_number(hints) or isinstance(hints, bool)):
        return "non-numeric used_hints"
    if isinstance(hints, int | float) and not isinstance(hints, bool) and hints < 0:
        return "negative used_hints"
    if isinstance(hints, int | float) and not isinstance(hints, bool) and hints >= INT4_MAX:
        return "used_hints out of range"
    topic = _as_text(question.get("topic"))
    if topic is not None and len(topic) > MAX_TOPIC_LENGTH:
        return f"topic longer than {MAX_TOPIC_LENGTH} characters"
    return None


AttemptValues = tuple[str, int, bool, int, int, str | None]


def attempt_or_problem(question: Any) -> AttemptValues | str:
    """The attempt values of a question, or the reason it is malformed (one pass for the common shape).

    The fast path handles what platforms send almost always (digits in a string or an int, a
    boolean, a number of seconds, an integer hint count, a string topic); anything else goes
    through `question_problem` and `attempt_values`, the definitions.
    """
    if type(question) is dict:
        identifier: Any = question.get("question_id")
        correct: Any = question["is_correct"] if "is_correct" in question else question.get("correct")
        seconds: Any = question.get("time_spent_sec", 0)
        hints: Any = question.get("used_hints", 0)
        topic: Any = question.get("topic")
        kind = type(identifier)
        if (
            (
                (kind is str and identifier.isascii() and identifier.isdigit() and len(identifier) <= 18)
                or (kind is int and 0 <= identifier < 10**18)
            )
            and type(correct) is bool
            and type(hints) is int
            and 0 <= hints < INT4_MAX
            and (topic is None or (type(topic) is str and len(topic) <= MAX_TOPIC_LENGTH))
        ):
            milliseconds = plain_milliseconds(seconds)
            if milliseconds is not None:
                key = identifier if kind is str else str(identifier)
                return key, int(key), correct, milliseconds, hints, topic or None
    problem = question_problem(question)
    return problem if problem is not None else attempt_values(question)


def plain_milliseconds(seconds: Any) -> int | None:
    """round(seconds × 1000) half away from zero for an int or float 0 ≤ seconds ≤ one day; None
    otherwise (a bool, another type, out of range: `attempt_values` decides)."""
    kind = type(seconds)
    if kind is int and 0 <= seconds <= MAX_SECONDS:
        return int(seconds) * 1000
    if kind is float and 0.0 <= seconds <= MAX_SECONDS:
        scaled = seconds * 1000.0
        whole = int(scaled)
        if abs(scaled - whole - 0.5) > 1e-6:  # far from a half: float rounding cannot flip it
            return whole + (1 if scaled - whole > 0.5 else 0)
        return _round_half_up(_decimal(seconds) * 1000)
    return None


def attempt_values(question: dict[str, Any]) -> AttemptValues:
    """(question_key, item_id, correct, response_time_ms, hints, topic_id) of a well-formed question."""
    key = str(_as_text(question["question_id"])).strip(" ")
    correct = _correctness(question)
    seconds = question.get("time_spent_sec") or 0
    hints = question.get("used_hints")
    if isinstance(hints, bool):
        hint_count = int(hints)
    elif isinstance(hints, int | float):
        hint_count = _round_half_up(_decimal(hints))
    else:
        hint_count = 0
    topic = _as_text(question.get("topic"))
    is_correct = correct if isinstance(correct, bool) else correct == 1
    return key, int(key), is_correct, _round_half_up(_decimal(seconds) * 1000), hint_count, topic or None
