"""generate-weekly-report counts each student's adaptive answers of the week (cat_events) and the
report says so in Korean or English; a student with none sees no such line."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import Engine
from tests.jobs.test_generate_weekly_report import WEEK, insert, report_file, run, week  # noqa: F401

from dreamseed.reports.i18n import EN, KO
from dreamseed.runtime.runner import EXIT_OK
from dreamseed.settings import Settings

MONDAY = datetime(WEEK.year, WEEK.month, WEEK.day, tzinfo=UTC)


def adaptive_rows(engine: Engine) -> None:
    """alice: 3 answers in the week (first and last second included), one served but unanswered,
    one the Sunday before and one the Monday after; carol: one the week before only."""
    answered = [
        ("alice", "1", MONDAY),
        ("alice", "2", MONDAY + timedelta(days=3)),
        ("alice", "3", MONDAY + timedelta(days=7, seconds=-1)),
        ("alice", "4", None),
        ("alice", "5", MONDAY - timedelta(seconds=1)),
        ("alice", "6", MONDAY + timedelta(days=7)),
        ("carol", "1", MONDAY - timedelta(days=2)),
    ]
    insert(
        engine,
        "INSERT INTO cat_events (user_id, session_id, item_id, position, policy, reason, theta_before, "
        "se_before, version, served_at, correct, answered_at) VALUES (:u, 's', :i, 0, 'practice', 'r', 0, 1, "
        "'v1', :served, CASE WHEN CAST(:at AS timestamptz) IS NULL THEN NULL ELSE true END, :at)",
        [{"u": u, "i": i, "served": MONDAY - timedelta(days=1), "at": at} for u, i, at in answered],
    )


def test_the_report_says_how_many_adaptive_questions_were_answered(week: Engine, settings: Settings) -> None:  # noqa: F811
    adaptive_rows(week)
    assert run(week, settings, report_format="html,pdf") == EXIT_OK
    alice = report_file(settings, "alice", "html").read_text(encoding="utf-8")
    assert KO["adaptive_answers"].format(count=3) in alice
    pdf = PdfReader(io.BytesIO(report_file(settings, "alice", "pdf").read_bytes()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert KO["adaptive_answers"].format(count=3) in text
    for user in ("bob", "carol"):  # none this week: no line at all
        shown = report_file(settings, user, "html").read_text(encoding="utf-8")
        assert "adaptive-answers" not in shown
        assert KO["adaptive_answers"].split("{")[0] not in shown


def test_english_reports_say_it_in_english(week: Engine, database_url: str, settings: Settings) -> None:  # noqa: F811
    adaptive_rows(week)
    english = settings.model_copy(update={"report_lang": "en"})
    assert run(week, english, report_format="html", user=("alice",)) == EXIT_OK
    alice = report_file(english, "alice", "html").read_text(encoding="utf-8")
    assert EN["adaptive_answers"].format(count=3) in alice
    assert alice.count("Adaptive practice") == 1
