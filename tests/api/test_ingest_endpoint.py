"""POST /api/seedtest/exam-results over real HTTP: loads like the CLI, reports rejects, needs the token."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import Engine, text
from tests.api.server import serving
from tests.factories import at, exam_result, question

from dreamseed.api.app import create_app
from dreamseed.ingest.files import current_window
from dreamseed.ingest.records import Rejected, check_exam_result
from dreamseed.settings import Settings

PATH = "/api/seedtest/exam-results"


def test_exam_results_are_loaded_and_bad_ones_reported(engine: Engine, settings: Settings) -> None:
    good = json.loads(exam_result("s1", "u1", at("2026-11-10"), [question(5, True), question(6, False)]))
    bad_question = json.loads(exam_result("s2", "u2", at("2026-11-10"), [question(7, True)]))
    bad_question["result_json"]["questions"][0]["question_id"] = "Q7"
    no_user = {"session_id": "s3", "result_json": {"questions": []}, "created_at": "2026-11-10T00:00:00Z"}
    with serving(create_app(settings, engine)) as base:
        response = httpx.post(base + PATH, json=[good, bad_question, no_user])
        again = httpx.post(base + PATH, json=[good])
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["inserted"], body["received"]) == ("partial", 2, 3)
    assert {(r["record"], r["reason"]) for r in body["rejected"]} == {
        (2, "question 1: non-numeric question_id"),
        (3, "missing user_id"),
    }
    assert again.json() == {
        "status": "ok",
        "received": 1,
        "inserted": 0,
        "updated": 0,
        "unchanged": 1,
        "rejected": [],
    }
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM attempt")).scalar_one() == 2
        assert connection.execute(text("SELECT count(*) FROM ingest_quarantine")).scalar_one() == 2


def test_ingestion_needs_the_token_and_a_list(engine: Engine, settings: Settings) -> None:
    secured = Settings(database_url=settings.database_url, r_irt_internal_token="s3cret")
    with serving(create_app(secured, engine)) as base:
        assert httpx.post(base + PATH, json=[]).status_code == 401
        wrong_shape = httpx.post(
            base + PATH, json={"session_id": "x"}, headers={"Authorization": "Bearer s3cret"}
        )
    assert wrong_shape.status_code == 422
    assert "body" in wrong_shape.json()["error"]


def test_the_api_applies_the_same_validator_as_the_file_path(engine: Engine, settings: Settings) -> None:
    good = exam_result("s1", "u1", at("2026-11-10"), [question(5, True)])
    huge_exam = good.replace('"s1"', '"s2"').replace('"exam_id": 1', '"exam_id": 1e400')
    nan_time = good.replace('"s1"', '"s3"').replace('"time_spent_sec": 20.0', '"time_spent_sec": NaN')
    year_one = good.replace('"s1"', '"s4"').replace("2026-11-10", "0001-01-01")
    records = [good, huge_exam, nan_time, year_one]
    body = ("[" + ",".join(records) + "]").encode()
    with serving(create_app(settings, engine)) as base:
        response = httpx.post(base + PATH, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    by_api = {(r["record"], r["reason"]) for r in response.json()["rejected"]}
    window = current_window(settings.ingest_min_date, settings.ingest_max_future_days)
    by_file = {
        (r.line_no, r.reason)
        for r in (check_exam_result(n, line, window) for n, line in enumerate(records, start=1))
        if isinstance(r, Rejected)
    }
    assert by_api == by_file
    assert {n for n, _ in by_api} == {2, 3, 4}
    assert "exam_id is not an integer" in dict(by_api)[2]
    assert "non-finite number (nan)" in dict(by_api)[3]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM exam_results")).scalar_one() == 1
        assert (
            connection.execute(text("SELECT count(*) FROM exam_results WHERE exam_id IS NULL")).scalar_one()
            == 0
        )
        assert connection.execute(text("SELECT count(*) FROM ingest_quarantine")).scalar_one() == 3
