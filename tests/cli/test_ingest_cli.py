"""`dreamseed ingest`: upserts, idempotence, and bad input kept with line numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from dreamseed.cli.main import cli


def exam_line(session: str, user: str | None, updated: str, questions: list[dict[str, object]]) -> str:
    record: dict[str, object] = {
        "session_id": session,
        "exam_id": 3,
        "status": "completed",
        "result_json": {"questions": questions},
        "created_at": "2026-11-01T09:00:00Z",
        "updated_at": updated,
    }
    if user is not None:
        record["user_id"] = user
    return json.dumps(record)


GOOD_Q = {"question_id": "11", "topic": "algebra", "is_correct": True, "time_spent_sec": 20, "used_hints": 0}


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(text("SELECT count(*) FROM exam_results")).scalar_one(),
            connection.execute(text("SELECT count(*) FROM attempt")).scalar_one(),
            connection.execute(text("SELECT count(*) FROM ingest_quarantine")).scalar_one(),
        )


def test_reingesting_a_file_changes_nothing(cli_env: dict[str, str], engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path / "er.jsonl",
        [exam_line(f"s{n}", f"u{n}", "2026-11-01T10:00:00Z", [GOOD_Q]) for n in range(5)],
    )
    first = CliRunner().invoke(cli, ["ingest", "exam-results", str(path)])
    assert first.exit_code == 0, first.output
    assert "inserted 5" in first.output
    second = CliRunner().invoke(cli, ["ingest", "exam-results", str(path)])
    assert second.exit_code == 0
    assert "inserted 0, updated 0, unchanged 5" in second.output
    assert counts(engine) == (5, 5, 0)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM session")).scalar_one() == 5


def test_a_newer_updated_at_wins_and_an_older_one_is_ignored(
    cli_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    wrong = dict(GOOD_Q, is_correct=False)
    CliRunner().invoke(
        cli,
        [
            "ingest",
            "exam-results",
            str(write(tmp_path / "a.jsonl", [exam_line("s1", "u1", "2026-11-01T10:00:00Z", [wrong])])),
        ],
    )
    newer = write(tmp_path / "b.jsonl", [exam_line("s1", "u1", "2026-11-02T10:00:00Z", [GOOD_Q])])
    assert "updated 1" in CliRunner().invoke(cli, ["ingest", "exam-results", str(newer)]).output
    older = write(tmp_path / "c.jsonl", [exam_line("s1", "u1", "2026-10-30T10:00:00Z", [wrong])])
    assert "unchanged 1" in CliRunner().invoke(cli, ["ingest", "exam-results", str(older)]).output
    with engine.connect() as connection:
        assert connection.execute(text("SELECT correct FROM attempt")).scalar_one() is True


def test_bad_rows_are_reported_counted_and_kept(
    cli_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    lines = [
        exam_line("s1", "u1", "2026-11-01T10:00:00Z", [GOOD_Q]),
        "{this is not json",
        exam_line("s2", None, "2026-11-01T10:00:00Z", [GOOD_Q]),
        exam_line("s3", "u3", "2026-11-01T10:00:00Z", [dict(GOOD_Q, question_id="Q-7"), GOOD_Q]),
        exam_line("s4", "u4", "2026-11-01T10:00:00Z", [dict(GOOD_Q, time_spent_sec=-3)]),
        exam_line("s5", "u5", "2026-11-01T10:00:00Z", [dict(GOOD_Q, is_correct="yes")]),
        json.dumps({"user_id": "u6", "result_json": {"questions": []}, "created_at": "2026-11-01T10:00:00Z"}),
    ]
    result = CliRunner().invoke(cli, ["ingest", "exam-results", str(write(tmp_path / "bad.jsonl", lines))])
    assert result.exit_code == 3
    for expected in [
        "line 2: unparsable JSON",
        "line 3: missing user_id",
        "line 4: question 1: non-numeric question_id",
        "line 5: question 1: negative time_spent_sec",
        "line 6: question 1: non-boolean correctness value",
        "line 7: missing session_id",
    ]:
        assert expected in result.output
    assert counts(engine) == (4, 2, 6)
    with engine.connect() as connection:
        lines_kept = (
            connection.execute(
                text("SELECT line_no FROM ingest_quarantine WHERE source = 'bad.jsonl' ORDER BY line_no")
            )
            .scalars()
            .all()
        )
    assert lines_kept == [2, 3, 4, 5, 6, 7]


def test_questions_and_goals_load_with_meta_and_rejections(
    cli_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    questions = tmp_path / "questions.csv"
    questions.write_text(
        "id,topic_id,difficulty,content,a,b,c,tags\n"
        "1,algebra,0.5,Solve x,1.2,0.5,0.2,anchor;core\n"
        "2,algebra,,,,,,\n"
        "x3,algebra,,,,,,\n"
        "4,geometry,,,-1,0,,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["ingest", "questions", str(questions)])
    assert result.exit_code == 3
    assert "line 4: question id is not a non-negative integer" in result.output
    assert "line 5: a must be positive" in result.output
    goals = tmp_path / "goals.csv"
    goals.write_text(
        "user_id,topic_id,target_level,priority,target_date,created_at\n"
        "u1,algebra,0.8,1,2026-12-20,\n"
        ",algebra,0.8,1,,\n"
        "u2,algebra,high,1,,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["ingest", "goals", str(goals)])
    assert result.exit_code == 3
    with engine.connect() as connection:
        meta = connection.execute(text("SELECT meta FROM question WHERE id = 1")).scalar_one()
        goal = connection.execute(text("SELECT target_level, target_date::text FROM interest_goal")).one()
    assert meta == {
        "tags": ["anchor", "core"],
        "irt": {"a": 1.2, "b": 0.5, "c": 0.2, "model": "3PL", "version": "import"},
    }
    assert tuple(goal) == (0.8, "2026-12-20")
    assert CliRunner().invoke(cli, ["ingest", "goals", str(goals)]).output.count("unchanged 1") == 1


def test_a_csv_with_the_wrong_header_is_refused_before_loading(
    cli_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item,level\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", "questions", str(path)])
    assert result.exit_code == 1
    assert "items.csv has no column id; expected the header id,topic_id" in result.output
    assert counts(engine) == (0, 0, 0)


def _with(**changes: object) -> str:
    record = json.loads(exam_line("bad", "u-bad", "2026-11-01T10:00:00Z", [GOOD_Q]))
    record.update(changes)
    return json.dumps(record, ensure_ascii=False)


def _question_with(**changes: object) -> str:
    return _with(result_json={"questions": [dict(GOOD_Q, **changes)]})


TEN_DAYS_AHEAD = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()

# One line of each kind that used to abort the whole load (or was loaded wrongly), and the reason
# it is now quarantined with. Lines are bytes: some are not valid UTF-8 or hold raw NUL bytes.
BAD_LINES: dict[str, tuple[bytes, str]] = {
    "time_spent_sec NaN": (
        _question_with(time_spent_sec=0).replace('"time_spent_sec": 0', '"time_spent_sec": NaN').encode(),
        "non-finite number (nan) at $.result_json.questions[0].time_spent_sec",
    ),
    "1 MB user_id": (_with(user_id="u" * 1_000_000).encode(), "user_id is longer than 256 characters"),
    "NUL escape in user_id": (_with(user_id="u\x00x").encode(), "user_id contains a NUL character"),
    "NUL escape in a topic": (
        _question_with(topic="alg\x00ebra").encode(),
        "text at $.result_json.questions[0].topic contains a NUL character",
    ),
    "raw NUL byte": (_with(user_id="u-nul").replace("u-nul", "u\x00nul").encode(), "unparsable JSON"),
    "lone surrogate": (
        _with(user_id="SURROGATE").replace("SURROGATE", "\\ud800").encode(),
        "user_id contains an unpaired surrogate",
    ),
    "exam_id 2^63": (_with(exam_id=2**63).encode(), "exam_id is out of range for a 32-bit integer"),
    "exam_id 1e400": (
        _with(exam_id=0).replace('"exam_id": 0', '"exam_id": 1e400').encode(),
        "exam_id is not",
    ),
    "invalid UTF-8": (
        _with(user_id="u-utf").encode().replace(b"u-utf", b"u\xff\xfe"),
        "line is not valid UTF-8",
    ),
    "year 1": (
        _with(created_at="0001-01-01T00:00:00Z", updated_at=None).encode(),
        "created_at 0001-01-01T00:00:00+00:00 is outside the plausible window",
    ),
    "year 9999": (
        _with(updated_at="9999-12-31T00:00:00Z").encode(),
        "updated_at 9999-12-31T00:00:00+00:00 is outside the plausible window",
    ),
    "ten days ahead": (
        _with(updated_at=f"{TEN_DAYS_AHEAD}T00:00:00Z").encode(),
        f"updated_at {TEN_DAYS_AHEAD}",
    ),
    "too long topic": (_question_with(topic="t" * 300).encode(), "question 1: topic longer than 256"),
    "hints beyond int4": (_question_with(used_hints=2**40).encode(), "question 1: used_hints out of range"),
}


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_a_bad_line_is_quarantined_and_the_others_load(
    kind: str, cli_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    bad, reason = BAD_LINES[kind]
    good = [exam_line(f"s{n}", f"u{n}", "2026-11-01T10:00:00Z", [GOOD_Q]).encode() for n in (1, 3)]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good[0], bad, good[1]]) + b"\n")
    result = CliRunner().invoke(cli, ["ingest", "exam-results", str(path)])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert f"line 2: {reason}" in result.output
    question_level = reason.startswith("question ")
    assert counts(engine) == (3 if question_level else 2, 2, 1)
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT line_no, kind, reason FROM ingest_quarantine")).one()
    assert kept.line_no == 2
    assert kept.kind == ("question" if question_level else "exam_result")
    assert reason.removeprefix("question 1: ") in kept.reason


def test_a_byte_order_mark_is_dropped(cli_env: dict[str, str], engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    lines = [exam_line(f"s{n}", f"u{n}", "2026-11-01T10:00:00Z", [GOOD_Q]) for n in range(2)]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())
    result = CliRunner().invoke(cli, ["ingest", "exam-results", str(path)])
    assert result.exit_code == 0, result.output
    assert counts(engine) == (2, 2, 0)


def test_the_plausible_window_is_a_setting(
    cli_env: dict[str, str], engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_MIN_DATE", "2026-11-02")
    path = write(tmp_path / "old.jsonl", [exam_line("s1", "u1", "2026-11-01T10:00:00Z", [GOOD_Q])])
    result = CliRunner().invoke(cli, ["ingest", "exam-results", str(path)])
    assert result.exit_code == 3
    assert "line 1: created_at 2026-11-01T09:00:00+00:00 is outside the plausible window 2026-11-02" in (
        result.output
    )


def test_a_csv_given_as_exam_results_is_refused_in_one_line(
    cli_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "questions.csv"
    path.write_text(
        "id,topic_id,difficulty,content,a,b,c,tags\n" + "1,algebra,,,,,,\n" * 480, encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["ingest", "exam-results", str(path)])
    assert result.exit_code == 1
    message = result.output.strip()
    assert len(message.splitlines()) == 1
    assert "questions.csv is not a JSON Lines file of exam results" in message
    assert "dreamseed ingest questions" in message
    assert counts(engine) == (0, 0, 0)


def test_a_jsonl_given_as_questions_is_refused_with_a_short_echo(
    cli_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    long_line = exam_line("s1", "u1", "2026-11-01T10:00:00Z", [GOOD_Q] * 20)
    assert len(long_line) > 2000
    result = CliRunner().invoke(cli, ["ingest", "questions", str(write(tmp_path / "er.jsonl", [long_line]))])
    assert result.exit_code == 1
    message = result.output.strip()
    assert len(message.splitlines()) == 1
    assert len(message) < 400
    assert "er.jsonl looks like JSON Lines" in message
    assert "dreamseed ingest exam-results" in message


def test_csv_rows_postgresql_would_refuse_are_quarantined(
    cli_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    questions = tmp_path / "questions.csv"
    questions.write_bytes(
        b"\xef\xbb\xbfid,topic_id,difficulty,content,a,b,c,tags\n"
        b"1,algebra,,,,,,\n"
        b"2,alg\x00ebra,,,,,,\n"
        b"3,alg\xffebra,,,,,,\n"
        b"4," + b"t" * 300 + b",,,,,,\n"
        b"5,algebra,inf,,,,,\n"
        b"6,geometry,,,,,,\n"
    )
    result = CliRunner().invoke(cli, ["ingest", "questions", str(questions)])
    assert result.exit_code == 3, result.output
    for expected in [
        "line 3: topic_id contains a NUL character",
        "line 4: topic_id is not valid UTF-8 (byte 0xff",
        "line 5: topic_id is longer than 256 characters",
        "line 6: difficulty is not finite",
    ]:
        assert expected in result.output
    goals = tmp_path / "goals.csv"
    goals.write_text(
        "user_id,topic_id,target_level,priority,target_date,created_at\n"
        "u1,algebra,0.8,1,2027-06-01,\n"
        "u2,algebra,0.8,99999,,\n"
        "u3,algebra,0.8,1,0001-01-01,\n"
        "u4,algebra,0.8,1,,9999-12-31T00:00:00Z\n"
        f"{'u' * 1000},algebra,0.8,1,,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["ingest", "goals", str(goals)])
    assert result.exit_code == 3, result.output
    for expected in [
        "line 3: priority is out of range for a 16-bit integer",
        "line 4: target_date 0001-01-01 is outside the plausible window",
        "line 5: created_at 9999-12-31T00:00:00+00:00 is outside the plausible window",
        "line 6: user_id is longer than 256 characters",
    ]:
        assert expected in result.output
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM question")).scalar_one() == 2
        assert connection.execute(text("SELECT count(*) FROM interest_goal")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM ingest_quarantine")).scalar_one() == 8
