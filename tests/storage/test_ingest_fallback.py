"""When the database refuses a batch the line checks let through, the offending rows are found
(by halving the batch in savepoints) and quarantined; the rest of the file still loads."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from tests.factories import at, exam_result, question

from dreamseed.ingest.records import ExamResultRow, QuestionRow, Rejected, check_exam_result
from dreamseed.storage.ingest import load_exam_results, load_questions


def checked(lines: list[str]) -> list[ExamResultRow | Rejected]:
    return [check_exam_result(n, line) for n, line in enumerate(lines, start=1)]


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("exam_results", "attempt_fact", "ingest_quarantine")
        )


def unchecked_row(line_no: int, user_id: str) -> ExamResultRow:
    """A row the line checks would refuse, built by hand to reach the database."""
    stamp = datetime(2026, 11, 10, tzinfo=UTC)
    document = {"session_id": f"raw{line_no}", "user_id": user_id, "result_json": {"questions": []}}
    return ExamResultRow(line_no, f"raw{line_no}", user_id, document, stamp, stamp)


def test_a_row_the_database_refuses_is_found_and_quarantined(engine: Engine) -> None:
    good = checked([exam_result(f"s{n}", f"u{n}", at("2026-11-10"), [question(n, True)]) for n in range(7)])
    incompressible = "".join(random.Random(1).choices(string.ascii_letters, k=20_000))
    records = [*good[:3], unchecked_row(4, incompressible), *good[3:]]
    summary = load_exam_results(engine, records, "test", chunk_size=5)
    assert (summary.read, summary.inserted) == (8, 7)
    assert [(r.line_no, r.reason.split(":")[0]) for r in summary.rejected] == [(4, "refused by the database")]
    assert "index row" in summary.rejected[0].reason
    assert counts(engine) == (7, 7, 1)


def test_a_load_that_fails_part_way_leaves_nothing_behind(engine: Engine) -> None:
    def records() -> Iterator[ExamResultRow | Rejected]:
        yield from checked([exam_result("s1", "u1", at("2026-11-10"), [question(1, True)]), "{bad"])
        raise RuntimeError("the file went away")

    with pytest.raises(RuntimeError):
        load_exam_results(engine, records(), "test")
    assert counts(engine) == (0, 0, 0)


def test_a_question_row_the_database_refuses_is_quarantined(engine: Engine) -> None:
    meta = json.dumps({"tags": []})
    rows = [QuestionRow(n, "algebra", None, None, meta, n + 1) for n in range(1, 5)]
    rows.insert(2, QuestionRow(99, "alg\x00ebra", None, None, meta, 9))
    summary = load_questions(engine, rows, "questions.csv")
    assert (summary.read, summary.inserted) == (5, 4)
    assert [r.line_no for r in summary.rejected] == [9]
    assert summary.rejected[0].reason.startswith("refused by the database")
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT kind, line_no, raw FROM ingest_quarantine")).one()
    assert (kept.kind, kept.line_no) == ("question_row", 9)
    assert "\\u0000" in kept.raw
