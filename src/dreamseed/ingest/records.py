"""Line-level checks of exam results: one validator for the file path and the HTTP path.

`check_exam_result` takes one JSONL line, `check_exam_document` an already parsed record (what the
API receives); both return the row to load or the reason it is rejected, and never raise. Every
value PostgreSQL would refuse is caught here (see `dreamseed.ingest.limits`). Question-level checks
(numeric question id, boolean correctness, non-negative time) follow the database trigger that
serves rows the platform writes directly (migration 0001), see `dreamseed.ingest.attempts`.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from dreamseed.ingest.limits import (
    MAX_ID_LENGTH,
    MAX_SHORT_TEXT_LENGTH,
    DateWindow,
    int4_problem,
    json_problem,
    parse_timestamp,
    text_problem,
    timestamp_problem,
    undecoded_problem,
)
from dreamseed.ingest.rejected import Rejected
from dreamseed.ingest.table_rows import GoalRow, QuestionRow, check_goal, check_question

__all__ = [
    "ExamResultRow",
    "GoalRow",
    "QuestionRow",
    "Rejected",
    "check_exam_document",
    "check_exam_result",
    "check_goal",
    "check_question",
    "parse_json",
    "parse_timestamp",
]


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


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_json(line: str) -> Any:
    """The JSON value of a line; raises ValueError with a short reason when it is not JSON."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return _parse_leniently(line)


def _parse_leniently(line: str) -> Any:
    try:  # the standard parser accepts what orjson refuses (e.g. integers beyond 64 bits) and explains errors
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"unparsable JSON: {error.msg} (column {error.colno})") from None
    except RecursionError:
        raise ValueError("unparsable JSON: nested too deeply") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"unparsable JSON: {str(error)[:100]}") from None


def _identifier_problem(document: dict[str, Any], key: str) -> str | None:
    identifier = _identifier(document.get(key))
    if identifier is None:
        return f"missing {key}"
    return text_problem(identifier, key, MAX_ID_LENGTH)


def _integer_problem(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not _is_integer(value):
        return f"{key} is not an integer"
    return int4_problem(value, key)


def _times(document: dict[str, Any], window: DateWindow) -> tuple[datetime, datetime] | str:
    """(created_at, updated_at), each standing in for the other when absent; or why they cannot."""
    created_stamp, updated_stamp = document.get("created_at"), document.get("updated_at")
    if created_stamp is None and updated_stamp is None:
        return "missing created_at and updated_at"
    parsed: list[datetime | None] = []
    for key, stamp in (("created_at", created_stamp), ("updated_at", updated_stamp)):
        if stamp is None:
            parsed.append(None)
            continue
        value = parse_timestamp(stamp)
        if value is None:
            return "created_at/updated_at is not an ISO-8601 timestamp"
        if (problem := timestamp_problem(value, key, window)) is not None:
            return problem
        parsed.append(value)
    created, updated = parsed
    created_at, updated_at = created or updated, updated or created
    assert created_at is not None
    assert updated_at is not None
    return created_at, updated_at


def _document_problem(
    document: dict[str, Any], window: DateWindow, known_storable: bool
) -> str | tuple[datetime, datetime]:
    """Why `document` cannot be loaded, or its (created_at, updated_at) when it can."""
    for key in ("session_id", "user_id"):
        if problem := _identifier_problem(document, key):
            return problem
    result = document.get("result_json")
    if not isinstance(result, dict):
        return "result_json is not a JSON object"
    if not isinstance(result.get("questions"), list):
        return "result_json.questions is not a list"
    if problem := _integer_problem(document, "exam_id"):
        return problem
    times = _times(document, window)
    if isinstance(times, str):
        return times
    for key in ("score_raw", "score_scaled", "standard_error", "percentile"):
        if document.get(key) is not None and not _is_number(document[key]):
            return f"{key} is not a number"
    if problem := _integer_problem(document, "org_id"):
        return problem
    status = document.get("status")
    if status is not None and not isinstance(status, str):
        return "status is not a string"
    if status is not None and (problem := text_problem(status, "status", MAX_SHORT_TEXT_LENGTH)):
        return problem
    problem = None if known_storable else json_problem(document)
    return times if problem is None else problem


def check_exam_result(line_no: int, line: str, window: DateWindow | None = None) -> ExamResultRow | Rejected:
    """One JSONL line of exam results: the row to load, or why it is rejected.

    `line` was decoded with `errors="surrogateescape"` (see `dreamseed.ingest.files`), so bytes
    that are not UTF-8 show up here and reject the line.
    """
    if problem := undecoded_problem(line):
        return Rejected(line_no, problem, line)
    try:
        document = orjson.loads(line)
        # orjson refuses NaN, Infinity, overflowing numbers and unpaired surrogates: only a \u0000
        # escape (or a result_json given as a string) can hold what PostgreSQL refuses.
        known_storable = "\\u0000" not in line and not isinstance(_get(document, "result_json"), str)
    except orjson.JSONDecodeError:
        try:
            document, known_storable = _parse_leniently(line), False
        except ValueError as error:
            return Rejected(line_no, str(error), line)
    return check_exam_document(line_no, document, line, window, known_storable=known_storable)


def _get(document: Any, key: str) -> Any:
    return document.get(key) if isinstance(document, dict) else None


def check_exam_document(
    line_no: int, document: Any, raw: str, window: DateWindow | None = None, *, known_storable: bool = False
) -> ExamResultRow | Rejected:
    """One parsed exam result (a JSONL line or a record posted to the API): the row, or why not.

    `raw` is what is kept in the quarantine when the record is rejected. `known_storable` says the
    caller has proved that every text and number in `document` fits jsonb, which skips that walk.
    """
    if not isinstance(document, dict):
        return Rejected(line_no, "line is not a JSON object", raw)
    if isinstance(document.get("result_json"), str):
        with contextlib.suppress(ValueError):
            document = {**document, "result_json": parse_json(document["result_json"])}
    session_id = _identifier(document.get("session_id"))
    checked = _document_problem(document, window or DateWindow(), known_storable)
    if isinstance(checked, str):
        kept_session = (
            session_id if session_id and text_problem(session_id, "", MAX_ID_LENGTH) is None else None
        )
        return Rejected(line_no, checked, raw, kept_session)
    user_id = _identifier(document.get("user_id"))
    assert session_id is not None
    assert user_id is not None
    created_at, updated_at = checked
    return ExamResultRow(line_no, session_id, user_id, document, created_at, updated_at)
