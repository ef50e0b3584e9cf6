"""POST /api/seedtest/analysis/irt/update-theta over real HTTP: θ from the current items, history,
noop cases, and the item cache following new calibrations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest
from sqlalchemy import Engine, text
from tests.api.server import serving
from tests.factories import load, steady_learner

from dreamseed.api.app import create_app
from dreamseed.irt import ItemParameters, OnlineScorer
from dreamseed.settings import Settings

PATH = "/api/seedtest/analysis/irt/update-theta"
ITEMS = list(range(100, 140))


def put_items(
    engine: Engine, shift: float = 0.0, run_id: str = "run-1", version: str = "v1"
) -> ItemParameters:
    """Item parameters for the factory's items 100..139 as a calibration would write them."""
    b = np.linspace(-2, 2, len(ITEMS)) + shift
    with engine.begin() as connection:
        for item, difficulty in zip(ITEMS, b, strict=True):
            connection.execute(
                text(
                    "INSERT INTO mirt_item_params (item_id, model, params, version, run_id, fitted_at) "
                    "VALUES (:i, '2PL', CAST(:p AS jsonb), :v, :r, now()) ON CONFLICT (item_id) DO UPDATE "
                    "SET params = EXCLUDED.params, run_id = EXCLUDED.run_id, fitted_at = EXCLUDED.fitted_at"
                ),
                {
                    "i": str(item),
                    "p": json.dumps({"a": 1.3, "b": float(difficulty), "c": 0.0}),
                    "v": version,
                    "r": run_id,
                },
            )
    return ItemParameters.from_arrays(ITEMS, np.full(len(ITEMS), 1.3), b)


def user_answers(engine: Engine, user: str) -> tuple[list[int], list[bool]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT item_id, correct FROM attempt_fact WHERE user_id = :u"), {"u": user}
        ).all()
    return [r[0] for r in rows], [r[1] for r in rows]


@pytest.fixture
def learners(engine: Engine) -> Engine:
    first = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    load(
        engine,
        steady_learner("u1", first, 18) + steady_learner("u2", first, 5, accuracy_from=0.2, accuracy_to=0.3),
    )
    return engine


@pytest.fixture
def base_url(settings: Settings, learners: Engine) -> Iterator[str]:
    with serving(create_app(settings, learners, item_bank_check_secs=0)) as url:
        yield url


def history(engine: Engine, user: str) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT run_id, theta, se, source FROM mirt_ability_history WHERE user_id = :u ORDER BY fitted_at"
                ),
                {"u": user},
            )
        ]


def test_update_theta_scores_with_the_current_items_and_appends_history(
    base_url: str, learners: Engine
) -> None:
    items = put_items(learners)
    answer = httpx.post(base_url + PATH, json={"user_id": "u1", "session_id": "u1-s17"})
    assert answer.status_code == 200
    body = answer.json()
    expected = OnlineScorer(items).score(*user_answers(learners, "u1"))
    assert body["status"] == "ok"
    assert (body["user_id"], body["model"], body["version"], body["session_id"]) == (
        "u1",
        "2PL",
        "v1",
        "u1-s17",
    )
    assert body["theta"] == pytest.approx(expected.theta)
    assert body["se"] == pytest.approx(expected.se)
    assert body["n_responses"] == 18 * 8
    assert datetime.fromisoformat(body["updated_at"]) <= datetime.now(UTC)
    assert history(learners, "u1") == [
        ("online-u1-s17", pytest.approx(expected.theta), pytest.approx(expected.se), "online")
    ]
    with learners.connect() as connection:
        latest = connection.execute(text("SELECT theta, run_id FROM mirt_ability WHERE user_id = 'u1'")).one()
    assert tuple(latest) == (pytest.approx(expected.theta), "online-u1-s17")


def test_the_same_session_twice_keeps_one_history_row(base_url: str, learners: Engine) -> None:
    put_items(learners)
    for _ in range(2):
        assert (
            httpx.post(base_url + PATH, json={"user_id": "u1", "session_id": "s1"}).json()["status"] == "ok"
        )
    httpx.post(base_url + PATH, json={"user_id": "u1"})
    runs = [row[0] for row in history(learners, "u1")]
    assert runs[0] == "online-s1"
    assert len(runs) == 2


def test_lookback_limits_the_answers_used(base_url: str, learners: Engine) -> None:
    put_items(learners)
    body = httpx.post(base_url + PATH, json={"user_id": "u1", "lookback_days": 5}).json()
    assert 0 < body["n_responses"] < 18 * 8


@pytest.mark.parametrize(
    ("user", "items", "message"),
    [
        ("nobody", True, "no answers on calibrated items"),
        ("u1", False, "no calibrated items"),
    ],
)
def test_nothing_to_score_is_a_noop(
    base_url: str, learners: Engine, user: str, items: bool, message: str
) -> None:
    if items:
        put_items(learners)
    answer = httpx.post(base_url + PATH, json={"user_id": user})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "noop"
    assert message in body["message"]
    assert "theta" not in body
    assert history(learners, user) == []


def test_items_of_another_version_are_not_used(base_url: str, learners: Engine) -> None:
    put_items(learners, version="v0")
    assert httpx.post(base_url + PATH, json={"user_id": "u1"}).json()["status"] == "noop"
    assert httpx.post(base_url + PATH, json={"user_id": "u1", "version": "v0"}).json()["status"] == "ok"


def test_a_new_calibration_is_picked_up(base_url: str, learners: Engine) -> None:
    put_items(learners)
    before = httpx.post(base_url + PATH, json={"user_id": "u1"}).json()["theta"]
    put_items(learners, shift=1.0, run_id="run-2")
    after = httpx.post(base_url + PATH, json={"user_id": "u1"}).json()["theta"]
    assert after > before + 0.5


def test_the_population_prior_of_the_latest_calibration_is_used(base_url: str, learners: Engine) -> None:
    items = put_items(learners)
    with learners.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_fit_meta (run_id, model_spec, metrics) VALUES ('run-1', "
                '\'{"version": "v1"}\', \'{"population": {"mean": 0.5, "sd": 1.5}}\')'
            )
        )
    body = httpx.post(base_url + PATH, json={"user_id": "u2"}).json()
    expected = OnlineScorer(items, prior_mean=0.5, prior_sd=1.5).score(*user_answers(learners, "u2"))
    assert body["theta"] == pytest.approx(expected.theta)


def test_concurrent_updates_all_succeed(base_url: str, learners: Engine) -> None:
    put_items(learners)
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda k: httpx.post(
                    base_url + PATH, json={"user_id": f"u{1 + k % 2}", "session_id": f"s{k}"}
                ),
                range(24),
            )
        )
    assert {a.json()["status"] for a in answers} == {"ok"}
    assert len(history(learners, "u1")) + len(history(learners, "u2")) == 24
    metrics = httpx.get(base_url + "/metrics").text
    assert 'dreamseed_theta_updates_total{status="ok"} 24.0' in metrics


@pytest.mark.parametrize("version", ["v1' OR '1'='1", "v9"])
def test_an_unknown_version_is_404_and_writes_nothing(base_url: str, learners: Engine, version: str) -> None:
    put_items(learners)
    answer = httpx.post(base_url + PATH, json={"user_id": "u1", "version": version})
    assert answer.status_code == 404
    assert "version" in answer.json()["error"]
    assert history(learners, "u1") == []
    with learners.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM mirt_ability")).scalar_one() == 0


def test_question_meta_items_of_another_version_are_not_used(base_url: str, learners: Engine) -> None:
    with learners.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO question (id, meta) SELECT i, jsonb_build_object('irt', jsonb_build_object("
                "'a', 1.2, 'b', 0.0, 'c', 0.2, 'model', '3PL', 'version', 'v0')) FROM generate_series(100, 139) i"
            )
        )
    assert httpx.post(base_url + PATH, json={"user_id": "u1"}).json()["status"] == "noop"
    answer = httpx.post(base_url + PATH, json={"user_id": "u1", "version": "v0"}).json()
    assert (answer["status"], answer["model"]) == ("ok", "3PL")
