"""next-item's item exclusions (answered within N days, retired, anchors) and its start from the
student's stored θ, over real HTTP against a real database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import Engine, text
from tests.api.server import serving
from tests.api.test_cat_endpoints import ANSWER, ITEMS, NEXT, drive, events, put_bank

from dreamseed.api.app import create_app
from dreamseed.cat import ItemBank, Policy, estimate
from dreamseed.settings import Settings

SESSION = {"user_id": "u1", "session_id": "s1"}


@pytest.fixture
def bank(engine: Engine) -> ItemBank:
    return put_bank(engine)


@pytest.fixture
def base_url(settings: Settings, engine: Engine, bank: ItemBank) -> Iterator[str]:
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
        yield url


def add_attempts(engine: Engine, items: list[int], days_ago: float, user: str = "u1") -> None:
    """Exam answers of ``user`` to ``items``, completed ``days_ago`` days ago."""
    when = datetime.now(UTC) - timedelta(days=days_ago)
    result = uuid.uuid4()
    with engine.begin() as connection:
        for k, item in enumerate(items):
            connection.execute(
                text(
                    "INSERT INTO attempt_fact (exam_result_id, question_index, user_id, item_id, correct, "
                    "response_time_ms, hints, completed_at, session_id) "
                    "VALUES (:r, :k, :u, :i, true, 1000, 0, :t, 'exam-1')"
                ),
                {"r": result, "k": k, "u": user, "i": item, "t": when},
            )


def tag(engine: Engine, items: list[int], name: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE question SET meta = CAST(:m AS jsonb) WHERE id = ANY(:ids)"),
            {"m": json.dumps({"tags": [name]}), "ids": items},
        )


def store_theta(engine: Engine, theta: float, user: str = "u1") -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_ability (user_id, version, theta, se, model, run_id) "
                "VALUES (:u, 'v1', :t, 0.3, '2PL', 'online-1') "
                "ON CONFLICT (user_id, version) DO UPDATE SET theta = EXCLUDED.theta"
            ),
            {"u": user, "t": theta},
        )


def served_items(steps: list[dict[str, object]]) -> set[int]:
    return {int(str(s["item_id"])) for s in steps if not s["stop"]}


def test_items_answered_within_the_window_are_not_served(base_url: str, engine: Engine) -> None:
    recent, old = ITEMS[20:40], ITEMS[40:50]  # b from −0.8 to +0.8, and +0.9 to +1.6
    add_attempts(engine, recent, days_ago=2)
    add_attempts(engine, old, days_ago=30)
    steps = drive(base_url, 0.0, {**SESSION, "max_items": 12})
    assert not served_items(steps) & set(recent)
    assert steps[0]["excluded"] == {"answered_recently": 20, "retired": 0, "anchors": 0}
    window = httpx.post(base_url + NEXT, json={**SESSION, "session_id": "s2", "exclude_answered_days": 1})
    assert window.json()["excluded"]["answered_recently"] == len(served_items(steps))  # s1's answers only
    assert int(window.json()["item_id"]) in recent  # the most informative items at θ = 0 come back
    wide = httpx.post(base_url + NEXT, json={**SESSION, "session_id": "s3", "exclude_answered_days": 60})
    answered = set(recent) | set(old) | served_items(steps)  # exams and s1's answers; s2's item unanswered
    assert wide.json()["excluded"]["answered_recently"] == len(answered)


def test_answers_of_other_adaptive_sessions_count_as_answered(base_url: str) -> None:
    first = drive(base_url, 0.0, {**SESSION, "max_items": 5})
    second = drive(base_url, 0.0, {**SESSION, "session_id": "s2", "max_items": 5})
    assert not served_items(first) & served_items(second)
    assert second[0]["excluded"]["answered_recently"] == 5
    off = httpx.post(base_url + NEXT, json={**SESSION, "session_id": "s3", "exclude_answered_days": 0})
    assert int(off.json()["item_id"]) == int(str(first[0]["item_id"]))  # same start, same best item


def test_the_default_window_is_cat_exclude_answered_days(
    database_url: str, tmp_path: Path, engine: Engine, bank: ItemBank
) -> None:
    add_attempts(engine, ITEMS[25:35], days_ago=5)
    for days, excluded in ((7, 10), (3, 0)):
        settings = Settings(
            database_url=database_url, dreamseed_home=tmp_path, cat_exclude_answered_days=days
        )
        with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
            step = httpx.post(url + NEXT, json={**SESSION, "session_id": f"d{days}"}).json()
        assert step["excluded"]["answered_recently"] == excluded


def test_retired_items_are_never_served(base_url: str, engine: Engine) -> None:
    retired = ITEMS[22:38]
    tag(engine, retired, "retired")
    steps = drive(base_url, 0.0, {**SESSION, "max_items": 10})
    assert not served_items(steps) & set(retired)
    assert steps[0]["excluded"]["retired"] == 16


def test_anchors_are_kept_out_only_when_configured(
    database_url: str, tmp_path: Path, engine: Engine, bank: ItemBank
) -> None:
    anchors = ITEMS[22:38]
    tag(engine, anchors, "anchor")
    for keep_out in (False, True):
        settings = Settings(database_url=database_url, dreamseed_home=tmp_path, cat_exclude_anchors=keep_out)
        with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
            steps = drive(url, 0.0, {**SESSION, "session_id": f"a{keep_out}", "max_items": 6})
        assert bool(served_items(steps) & set(anchors)) is not keep_out
        assert steps[0]["excluded"]["anchors"] == (16 if keep_out else 0)


def test_excluding_every_item_stops_the_session(base_url: str, engine: Engine) -> None:
    tag(engine, ITEMS, "retired")
    step = httpx.post(base_url + NEXT, json=SESSION).json()
    assert (step["status"], step["stop_reason"], step["excluded"]["retired"]) == (
        "stop",
        "no_eligible_item",
        60,
    )
    assert events(engine) == []


def test_a_session_starts_from_the_stored_theta(base_url: str, engine: Engine, bank: ItemBank) -> None:
    store_theta(engine, 1.5)
    first = httpx.post(base_url + NEXT, json=SESSION).json()
    assert (first["start"], first["start_theta"], first["theta"], first["se"]) == ("stored", 1.5, 1.5, 1.0)
    assert "started from the student's stored θ +1.50" in first["reason"]
    assert float(bank.b[ITEMS.index(int(first["item_id"]))]) > 0.9  # informative near θ = 1.5
    answer = httpx.post(base_url + ANSWER, json={**SESSION, "item_id": first["item_id"], "correct": False})
    index = np.array([ITEMS.index(int(first["item_id"]))])
    theta, se = estimate(bank, index, np.array([False]), Policy(prior_mean=1.5))
    assert (answer.json()["theta"], answer.json()["se"]) == (pytest.approx(theta), pytest.approx(se))
    assert answer.json()["theta"] > estimate(bank, index, np.array([False]), Policy())[0]
    store_theta(engine, -1.0)  # a θ written mid-session does not move the session's start
    second = httpx.post(base_url + NEXT, json=SESSION).json()
    assert (second["start"], second["start_theta"], second["theta"]) == ("stored", 1.5, pytest.approx(theta))
    assert "started from" not in second["reason"]
    rows = events(engine)
    assert [(r["start"], r["prior_mean"]) for r in rows] == [("stored", 1.5), ("stored", 1.5)]


def test_without_a_stored_theta_or_when_asked_the_session_starts_from_the_prior(
    base_url: str, engine: Engine
) -> None:
    plain = httpx.post(base_url + NEXT, json=SESSION).json()
    assert (plain["start"], plain["start_theta"], plain["theta"]) == ("prior", 0.0, 0.0)
    assert "started from the prior θ 0 (no stored θ)" in plain["reason"]
    store_theta(engine, 1.5)
    asked = httpx.post(base_url + NEXT, json={**SESSION, "session_id": "s2", "start": "prior"}).json()
    assert (asked["start"], asked["theta"]) == ("prior", 0.0)
    far = httpx.post(base_url + NEXT, json={**SESSION, "session_id": "s3"})
    assert far.json()["start"] == "stored"
    store_theta(engine, 9.0)
    edge = httpx.post(base_url + NEXT, json={**SESSION, "session_id": "s4"}).json()
    assert (edge["start"], edge["start_theta"]) == ("stored", 4.0)
    assert [r["start"] for r in events(engine, "s1")] == ["prior"]


def test_a_stored_theta_makes_the_user_known(base_url: str, engine: Engine) -> None:
    store_theta(engine, 0.5, user="u-theta-only")
    step = httpx.post(base_url + NEXT, json={"user_id": "u-theta-only", "session_id": "s1"})
    assert step.status_code == 200
    assert step.json()["start"] == "stored"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SESSION, "exclude_answered_days": -1}, "exclude_answered_days"),
        ({**SESSION, "exclude_answered_days": "week"}, "exclude_answered_days"),
        ({**SESSION, "start": "yesterday"}, "start"),
    ],
)
def test_bad_exclusion_or_start_fields_are_a_422(
    base_url: str, engine: Engine, body: dict[str, object], field: str
) -> None:
    answer = httpx.post(base_url + NEXT, json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["error"]
    assert events(engine) == []
