"""`dreamseed ingest`: upserts, idempotence, and bad input kept with line numbers."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_a_failed_load_leaves_nothing_behind(cli_env: dict[str, str], engine: Engine, tmp_path: Path) -> None:
    # The session_id is valid JSON but an exam_id too large for integer makes the upsert fail in SQL.
    lines = [
        exam_line("s1", "u1", "2026-11-01T10:00:00Z", [GOOD_Q]),
        json.dumps(
            {
                "session_id": "s2",
                "user_id": "u2",
                "exam_id": 10**12,
                "result_json": {"questions": []},
                "created_at": "2026-11-01T10:00:00Z",
            }
        ),
    ]
    result = CliRunner().invoke(cli, ["ingest", "exam-results", str(write(tmp_path / "x.jsonl", lines))])
    assert result.exit_code != 0
    assert counts(engine) == (0, 0, 0)


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
