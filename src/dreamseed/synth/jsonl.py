"""exam_results.jsonl text, built in bulk from lookup tables (no per-object json.dumps on the fast path).

A line, keys in this order, compact separators:
{"session_id":"…","user_id":"u000123","exam_id":101,"status":"completed","result_json":{"questions":
[{"question_id":"10023","topic":"algebra","is_correct":true,"time_spent_sec":37.4,"used_hints":0},…],
"score_raw":12},"created_at":"2026-11-02T09:14:05Z","updated_at":"2026-11-02T09:31:40Z","org_id":1}

`org_id` is 1 … ORGS by a stable rule on the user id (`org_ids`), so a teacher of one org sees a
third of the students in the demo.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from dreamseed.synth.responses import MAX_SECONDS

SESSIONS_PER_CHUNK = 20_000
CORRECTNESS_PIECES = np.array(
    ['"is_correct":false,', '"is_correct":true,', '"correct":false,', '"correct":true,'], dtype=object
)
TIME_PIECES = np.array(
    [f'"time_spent_sec":{t // 10}.{t % 10},' for t in range(int(MAX_SECONDS * 10) + 1)], dtype=object
)
HINT_PIECES = np.array([f'"used_hints":{h}}}' for h in range(4)], dtype=object)


def exam_results_chunks(
    exam_results: pd.DataFrame,
    exam_questions: pd.DataFrame,
    bad_rows: pd.DataFrame,
    on_chunk: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The file's text in chunks of SESSIONS_PER_CHUNK sessions, bad rows applied in place.

    `on_chunk(sessions_done)` is called after each chunk.
    """
    sizes = exam_results["n_questions"].to_numpy()
    first = np.concatenate([[0], np.cumsum(sizes)])
    bad_by_source = _bad_rows_by_source_row(exam_results, bad_rows)
    for start in range(0, sizes.size, SESSIONS_PER_CHUNK):
        stop = min(start + SESSIONS_PER_CHUNK, sizes.size)
        questions = exam_questions.iloc[first[start] : first[stop]]
        yield _encode_chunk(exam_results.iloc[start:stop], questions, bad_by_source, start)
        if on_chunk is not None:
            on_chunk(stop)


def _bad_rows_by_source_row(
    exam_results: pd.DataFrame, bad_rows: pd.DataFrame
) -> dict[int, list[dict[str, Any]]]:
    row_of = pd.Index(exam_results["session_id"]).get_indexer(bad_rows["source_session_id"])
    by_row: dict[int, list[dict[str, Any]]] = {}
    for row, record in zip(row_of.tolist(), bad_rows.to_dict("records"), strict=True):
        by_row.setdefault(row, []).append(record)
    return by_row


def _encode_chunk(
    results: pd.DataFrame,
    questions: pd.DataFrame,
    bad_by_source: dict[int, list[dict[str, Any]]],
    first_row: int,
) -> str:
    sizes = results["n_questions"].to_numpy()
    local_first = np.concatenate([[0], np.cumsum(sizes)])
    question_text = _question_pieces(questions, sizes)
    header = _headers(results)
    footer = _footers(results)
    slots = np.arange(sizes.size)
    pieces = np.full(local_first[-1] + 3 * sizes.size, "", dtype=object)
    pieces[local_first[:-1] + 3 * slots + 1] = header
    pieces[np.arange(local_first[-1]) + 3 * np.repeat(slots, sizes) + 2] = question_text
    pieces[local_first[1:] + 3 * slots + 2] = footer
    for row in range(first_row, first_row + sizes.size):
        for record in bad_by_source.get(row, []):
            local = row - first_row
            begin = local_first[local] + 3 * local
            if record["question_index"] >= 0:
                position = begin + 2 + record["question_index"]
                last = record["question_index"] == sizes[local] - 1
                pieces[position] = _bad_question(
                    questions.iloc[local_first[local] + record["question_index"]], record, last
                )
            else:
                good_line = "".join(pieces[begin + 1 : local_first[local + 1] + 3 * local + 3].tolist())
                pieces[begin] += _bad_line(good_line, results.iloc[local], record)
    return "".join(pieces.tolist())


def _question_pieces(questions: pd.DataFrame, sizes: np.ndarray) -> np.ndarray:
    """One string per question object, with a trailing comma except for a session's last."""
    ids = questions["question_id"].to_numpy()
    topics = questions["topic_id"].to_numpy()
    item_index, item_key = pd.factorize(ids)
    topic_of_item = np.empty(item_key.size, dtype=object)
    topic_of_item[item_index] = topics
    prefixes = np.array(
        [
            f'{{"question_id":"{q}","topic":{json.dumps(t)},'
            for q, t in zip(item_key, topic_of_item, strict=True)
        ],
        dtype=object,
    )
    alternative = questions["correctness_key"].cat.codes.to_numpy()
    correctness = 2 * alternative + questions["is_correct"].to_numpy()
    tenths = np.rint(questions["time_spent_sec"].to_numpy() * 10.0).astype(np.int64)
    text = prefixes[item_index] + CORRECTNESS_PIECES[correctness] + TIME_PIECES[tenths]
    text = text + HINT_PIECES[questions["used_hints"].to_numpy()]
    separator = np.full(ids.size, ",", dtype=object)
    separator[np.cumsum(sizes) - 1] = ""
    return text + separator


def _utc_strings(column: pd.Series) -> np.ndarray:
    naive = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    return np.char.add(np.datetime_as_string(naive, unit="s"), "Z").astype(object)


def _headers(results: pd.DataFrame) -> np.ndarray:
    session = results["session_id"].to_numpy(dtype=object)
    user = results["user_id"].to_numpy(dtype=object)
    exam = results["exam_id"].astype(str).to_numpy(dtype=object)
    return (
        '{"session_id":"' + session + '","user_id":"' + user + '","exam_id":' + exam
        + ',"status":"completed","result_json":{"questions":['
    )  # fmt: skip


ORGS = 3


def org_ids(user_ids: pd.Series) -> np.ndarray:
    """Each student's org (1 … ORGS): the number in the user id modulo ORGS, plus one."""
    return (user_ids.str[1:].astype(np.int64).to_numpy() % ORGS + 1).astype(str).astype(object)


def _footers(results: pd.DataFrame) -> np.ndarray:
    score = results["score_raw"].astype(str).to_numpy(dtype=object)
    created, updated = _utc_strings(results["created_at"]), _utc_strings(results["updated_at"])
    org = org_ids(results["user_id"])
    return (
        '],"score_raw":' + score + '},"created_at":"' + created + '","updated_at":"' + updated
        + '","org_id":' + org + "}\n"
    )  # fmt: skip


def _bad_question(question: pd.Series, record: dict[str, Any], last: bool) -> str:
    """A question object with one malformed value (see bad_rows.VARIANTS)."""
    question_id = str(question["question_id"])
    key = str(question["correctness_key"])
    value: dict[str, Any] = {
        "question_id": question_id,
        "topic": str(question["topic_id"]),
        key: bool(question["is_correct"]),
        "time_spent_sec": float(question["time_spent_sec"]),
        "used_hints": int(question["used_hints"]),
    }
    detail = record["detail"]
    if record["kind"] == "non_numeric_question_id":
        value["question_id"] = {"prefixed": f"Q{question_id}", "suffixed": f"{question_id}x", "empty": ""}[
            detail
        ]
    elif record["kind"] == "negative_time_spent":
        value["time_spent_sec"] = -max(value["time_spent_sec"], 1.0)
    else:
        value[key] = {"string_yes": "yes", "number_2": 2}[detail]
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False) + ("" if last else ",")


def _bad_line(line: str, session: pd.Series, record: dict[str, Any]) -> str:
    """A corrupted copy of a session's line (see bad_rows.VARIANTS), ending in a newline."""
    old_id = f'"session_id":"{session["session_id"]}"'
    kind, detail = record["kind"], record["detail"]
    if kind == "missing_session_id":
        replacement = {"absent": "", "null": '"session_id":null,', "empty": '"session_id":"",'}[detail]
        return line.replace(old_id + ",", replacement, 1)
    line = line.replace(old_id, f'"session_id":"{record["session_id"]}"', 1)
    if kind == "missing_user_id":
        user = f',"user_id":"{session["user_id"]}"'
        replacement = {"absent": "", "null": ',"user_id":null', "empty": ',"user_id":""'}[detail]
        return line.replace(user, replacement, 1)
    if detail == "truncated":
        return line[: len(line) // 2] + "\n"
    return line.rstrip("\n") + "}\n"


def response_rows(
    exam_results: pd.DataFrame, exam_questions: pd.DataFrame, bad_rows: pd.DataFrame
) -> pd.DataFrame:
    """The answers exam_results.jsonl holds as the long response CSV (user_id, item_id, correct).

    The rows `dreamseed ingest exam-results` would load, in file order: malformed questions are
    left out, and malformed lines are extra copies of good ones (see bad_rows.VARIANTS), so they add
    nothing.
    """
    sizes = exam_results["n_questions"].to_numpy()
    frame = pd.DataFrame(
        {
            "user_id": np.repeat(exam_results["user_id"].to_numpy(dtype=object), sizes),
            "item_id": exam_questions["question_id"].to_numpy(),
            "correct": exam_questions["is_correct"].to_numpy().astype(np.int8),
        }
    )
    bad = bad_rows[bad_rows["question_index"] >= 0]
    first = np.concatenate([[0], np.cumsum(sizes)])
    session_row = pd.Index(exam_results["session_id"]).get_indexer(bad["source_session_id"])
    keep = np.ones(len(frame), dtype=bool)
    keep[first[session_row] + bad["question_index"].to_numpy()] = False
    return frame[keep]
