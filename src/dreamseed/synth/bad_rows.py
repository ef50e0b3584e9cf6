"""Where the deliberately malformed lines and questions go in exam_results.jsonl."""

from __future__ import annotations

import numpy as np
import pandas as pd

LINE_KINDS = ("unparsable_json", "missing_user_id", "missing_session_id")
QUESTION_KINDS = ("non_numeric_question_id", "negative_time_spent", "non_boolean_correct")
BAD_KINDS = (
    "unparsable_json",
    "missing_user_id",
    "missing_session_id",
    "non_numeric_question_id",
    "negative_time_spent",
    "non_boolean_correct",
)
VARIANTS: dict[str, tuple[str, ...]] = {
    "unparsable_json": ("truncated", "extra_brace"),
    "missing_user_id": ("absent", "null", "empty"),
    "missing_session_id": ("absent", "null", "empty"),
    "non_numeric_question_id": ("prefixed", "suffixed", "empty"),
    "negative_time_spent": ("negative",),
    "non_boolean_correct": ("string_yes", "number_2"),
}
BAD_ROW_COLUMNS = ["line_no", "kind", "detail", "session_id", "source_session_id", "question_index"]


def plan_bad_rows(
    count: int, sizes: np.ndarray, session_ids: np.ndarray, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Spread `count` bad rows evenly over S sessions (file order); kinds cycle through BAD_KINDS.

    Line kinds add a corrupted copy of a session's line just before it (with a new session id);
    question kinds corrupt one question of a session in place. Returns the bad-row table
    (BAD_ROW_COLUMNS: 1-based line_no in the final file, kind, detail = variant, session_id the bad
    line carries, source_session_id, question_index (0-based; −1 for line kinds)) and the 1-based
    line number of every good session (S,).
    """
    n_sessions = sizes.size
    if count > n_sessions:
        raise ValueError(f"bad_rows={count} exceeds the {n_sessions} sessions generated")
    j = np.arange(count)
    source = ((j + 0.5) * n_sessions / max(count, 1)).astype(np.int64)
    kind = np.array(BAD_KINDS, dtype=object)[j % len(BAD_KINDS)]
    occurrence = j // len(BAD_KINDS)
    detail = np.array(
        [VARIANTS[k][o % len(VARIANTS[k])] for k, o in zip(kind, occurrence, strict=True)], dtype=object
    )
    is_line = np.isin(kind, LINE_KINDS)
    question = np.where(is_line, -1, (rng.random(count) * sizes[source]).astype(np.int64))
    inserted_before = np.bincount(source[is_line], minlength=n_sessions)
    session_line = np.arange(n_sessions) + 1 + np.cumsum(inserted_before)
    line_no = np.where(is_line, source + 1 + np.cumsum(is_line) - 1, session_line[source])
    source_id = session_ids[source]
    carried = np.where(
        is_line,
        np.array([f"{sid}-bad{k}" for sid, k in zip(source_id, j, strict=True)], dtype=object),
        source_id,
    )
    carried = np.where((kind == "missing_session_id"), "", carried)
    frame = pd.DataFrame(
        {
            "line_no": line_no,
            "kind": kind,
            "detail": detail,
            "session_id": carried,
            "source_session_id": source_id,
            "question_index": question,
        }
    )
    return frame, session_line
