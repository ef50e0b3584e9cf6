"""A file of several chunks: every row lands once, a reading error or a lost connection while a
later chunk is read or written rolls the whole file back (and leaves no thread behind)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from tests.factories import at, exam_result, question

from dreamseed.ingest.records import ExamResultRow, Rejected, check_exam_result
from dreamseed.storage.ingest import load_exam_results


def lines(count: int) -> Iterator[ExamResultRow | Rejected]:
    for n in range(1, count + 1):
        items = [question(10 + n % 4, n % 2 == 0), question(0 if n % 5 else 42, True)]
        if n % 7 == 0:
            items.append({"question_id": "x", "is_correct": True})
        yield check_exam_result(n, exam_result(f"s{n}", f"u{n % 3}", at("2026-11-10"), items))
        if n % 9 == 0:
            yield check_exam_result(n + 1000, "{not json")


def stored(engine: Engine) -> tuple[int, int, int, list[str | None]]:
    with engine.connect() as connection:
        exams, attempts, quarantined = (
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("exam_results", "attempt_fact", "ingest_quarantine")
        )
        keys = connection.execute(
            text("SELECT DISTINCT question_key FROM attempt_fact ORDER BY 1 NULLS FIRST")
        ).scalars()
        return exams, attempts, quarantined, list(keys)


def readers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "dreamseed-ingest-reader"]


def test_a_file_of_many_chunks_loads_every_row_once(engine: Engine) -> None:
    summary = load_exam_results(engine, lines(40), "test", chunk_size=6)
    assert (summary.read, summary.inserted, summary.updated, summary.unchanged) == (44, 40, 0, 0)
    # 4 unparsable lines and 5 questions without a numeric id, in line order
    assert [r.line_no for r in summary.rejected] == [7, 14, 21, 28, 35, 1009, 1018, 1027, 1036]
    assert stored(engine) == (40, 80, 9, [None])
    assert not readers()
    again = load_exam_results(engine, lines(40), "test", chunk_size=6)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 40)
    assert stored(engine) == (40, 80, 9, [None])


def test_an_error_while_reading_a_later_chunk_leaves_nothing_behind(engine: Engine) -> None:
    def failing() -> Iterator[ExamResultRow | Rejected]:
        yield from lines(20)
        raise OSError("the file went away")

    with pytest.raises(OSError, match="the file went away"):
        load_exam_results(engine, failing(), "test", chunk_size=6)
    assert stored(engine) == (0, 0, 0, [])
    assert not readers()


def test_an_error_while_writing_stops_the_reader(engine: Engine) -> None:
    def endless() -> Iterator[ExamResultRow | Rejected]:
        n = 0
        while True:
            n += 1
            yield check_exam_result(n, exam_result(f"s{n}", "u1", at("2026-11-10"), [question(1, True)]))

    with engine.begin() as connection:  # the connection is lost while the first chunk is written
        connection.execute(
            text(
                "CREATE FUNCTION lose_connection() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER lose_connection AFTER INSERT ON session "
                "FOR EACH STATEMENT EXECUTE FUNCTION lose_connection()"
            )
        )
    with pytest.raises(OperationalError):
        load_exam_results(engine, endless(), "test", chunk_size=50)
    assert not readers()
    assert stored(engine)[:3] == (0, 0, 0)


def test_a_question_id_keeps_its_spelling_only_when_it_is_not_the_plain_digits(engine: Engine) -> None:
    spelled = [{"question_id": key, "is_correct": True} for key in ("042", "42", 42, "0", "00", " 7 ")]
    load_exam_results(engine, [check_exam_result(1, exam_result("s1", "u1", at("2026-11-10"), spelled))], "t")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT item_id, question_key FROM attempt_fact ORDER BY question_index")
        ).all()
    assert [tuple(row) for row in rows] == [
        (42, "042"),
        (42, None),
        (42, None),
        (0, None),
        (0, "00"),
        (7, None),
    ]
