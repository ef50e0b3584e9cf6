"""For any lines at all (garbage, binary, almost-valid records), ingestion accounts for every one:
lines in = loaded + quarantined, and nothing raises."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from dreamseed.ingest.files import GOALS_CSV, QUESTIONS_CSV, csv_records, exam_result_records, numbered_lines
from dreamseed.ingest.records import ExamResultRow, Rejected, check_goal, check_question
from dreamseed.storage.ingest import load_exam_results, load_questions

nasty_text = st.text(max_size=6) | st.sampled_from(["\x00", "\ud800", "\ufeff", "u" * 300, "é", ""])
nasty_values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | nasty_text
    | st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "2026-11-01T10:00:00Z"])
)
GOOD = {
    "session_id": "s",
    "user_id": "u",
    "exam_id": 3,
    "result_json": {
        "questions": [
            {"question_id": "1", "topic": "a", "is_correct": True, "time_spent_sec": 2, "used_hints": 0}
        ]
    },
    "created_at": "2026-11-01T10:00:00Z",
}


@st.composite
def mutated_records(draw: st.DrawFn) -> bytes:
    """A good record with a few fields (or the first question's fields) replaced by nasty values."""
    record = json.loads(json.dumps(GOOD))
    record["session_id"] = draw(st.text(min_size=1, max_size=4))
    question = record["result_json"]["questions"][0]
    for target in draw(st.lists(st.sampled_from([*GOOD, *question]), max_size=3)):
        (record if target in GOOD else question)[target] = draw(nasty_values)
    return json.dumps(record, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


lines = st.lists(st.binary(max_size=60) | mutated_records() | st.just(b"\xef\xbb\xbf"), max_size=8).map(
    lambda items: [item.replace(b"\n", b" ") for item in items]
)


def non_blank(items: list[bytes]) -> int:
    """How many lines hold more than white space (a byte-order mark opening the file does not count)."""
    texts = [item.decode("utf-8", errors="replace") for item in items]
    if texts:
        texts[0] = texts[0].removeprefix("\ufeff")
    return sum(1 for line in texts if line.strip())


def file_of(directory: str, name: str, items: list[bytes], header: bytes = b"") -> Path:
    path = Path(directory) / name
    path.write_bytes(header + b"\n".join(items) + b"\n")
    return path


@settings(max_examples=200, deadline=None)
@given(lines)
def test_every_jsonl_line_is_a_row_or_a_rejection(items: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = file_of(directory, "any.jsonl", items)
        outcomes = list(exam_result_records(numbered_lines(path)))
    assert len(outcomes) == non_blank(items)
    assert all(isinstance(outcome, ExamResultRow | Rejected) for outcome in outcomes)


csv_lines = st.lists(
    st.binary(max_size=40).map(lambda line: line.translate(None, b'"\r\n')).filter(bool), max_size=8
)


@settings(max_examples=200, deadline=None)
@given(csv_lines)
def test_every_csv_row_is_a_row_or_a_rejection(items: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        questions = file_of(directory, "q.csv", items, b"id,topic_id,difficulty,content,a,b,c,tags\n")
        goals = file_of(directory, "g.csv", items, b"user_id,topic_id,target_level,priority,target_date\n")
        outcomes = [
            len(list(csv_records(questions, check_question, QUESTIONS_CSV))),
            len(list(csv_records(goals, check_goal, GOALS_CSV))),
        ]
    assert outcomes == [len(items), len(items)]


def reset(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE exam_results, attempt_fact, ingest_quarantine, session, question"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines, csv_lines)
def test_the_loaders_account_for_every_line(engine: Engine, items: list[bytes], rows: list[bytes]) -> None:
    reset(engine)
    with tempfile.TemporaryDirectory() as directory:
        path = file_of(directory, "any.jsonl", items)
        summary = load_exam_results(engine, exam_result_records(numbered_lines(path)), "any.jsonl")
        questions = file_of(directory, "q.csv", rows, b"id,topic_id,difficulty,content,a,b,c,tags\n")
        bank = load_questions(engine, csv_records(questions, check_question, QUESTIONS_CSV), "q.csv")
    whole_lines = [r for r in summary.rejected if r.question_index is None]
    assert summary.read == non_blank(items) == summary.loaded + len(whole_lines)
    assert bank.read == len(rows) == bank.loaded + len(bank.rejected)
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT count(DISTINCT line_no) FROM ingest_quarantine WHERE kind = 'exam_result'")
        ).scalar_one()
    assert kept == len({r.line_no for r in whole_lines})
